// Package fastgzip, imported for its effect, makes gRPC's gzip compressor
// (the one Temporal's SDK compresses its requests with by default, see
// TEMPORAL_GRPC_GZIP) compress at gzip.BestSpeed.
//
// At gzip's default level every message resets the compressor's hash
// tables, 640 KB cleared for each request however small (a poll is a few
// hundred bytes): in a worker at twenty concurrent changes that reset alone
// took about 5 % of its CPU, and gzip about 11 %. BestSpeed does not clear
// its table for each message and still compresses the JSON payloads
// Temporal carries, which is what compression over a network is for.
//
// The level is the process's: it holds as well for whatever else gzips
// over gRPC in it, such as the answers of the Temporal server `dev` embeds
// to a client that sent gzip, or an OTLP exporter set to gzip.
package fastgzip

import (
	"compress/gzip"

	grpcgzip "google.golang.org/grpc/encoding/gzip"
)

// Level is the level gRPC's gzip compressor runs at in this process.
const Level = gzip.BestSpeed

// gRPC allows the level to be set only while the program initialises.
func init() {
	if err := grpcgzip.SetLevel(Level); err != nil {
		panic(err) // a constant level gzip accepts: cannot happen
	}
}
