// Command webhook-receiver is a webhook receiver for trying contractd's
// webhooks on one machine: it prints each delivery it gets and answers 204.
// The README's webhook examples send to it, and scripts/tour.sh starts it.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"
)

// maxBody bounds what one delivery may send; contractd's events are small.
const maxBody = 1 << 20

func main() {
	addr := flag.String("addr", "127.0.0.1:9099", "address to listen on")
	flag.Parse()
	http.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		fmt.Printf("%s %s Webhook-Id=%s\n%s\n", time.Now().UTC().Format(time.RFC3339), r.URL.Path, r.Header.Get("Webhook-Id"), body)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("webhook-receiver listening on http://%s/", *addr)
	log.Fatal(srv.ListenAndServe())
}
