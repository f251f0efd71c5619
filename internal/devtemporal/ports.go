package devtemporal

import (
	"errors"
	"net"
	"strconv"
)

// derivedPortOffsets are the ports, from the frontend's, that the server's
// services listen on: gRPC of history, matching, worker and the internal
// frontend (+1..+4), and the five services' membership (+10..+14).
var derivedPortOffsets = []int{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}

// FreeFrontendPort finds, from port from on, a frontend port whose derived
// ports are free too: for tests that start servers side by side.
func FreeFrontendPort(from int) (int, error) {
	for base := from; base+derivedPortOffsets[len(derivedPortOffsets)-1] < 65536; base += 20 {
		if portsFree(base) {
			return base, nil
		}
	}
	return 0, errors.New("no free range of ports for an embedded Temporal server")
}

func portsFree(base int) bool {
	for _, off := range derivedPortOffsets {
		l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(base+off)))
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}
