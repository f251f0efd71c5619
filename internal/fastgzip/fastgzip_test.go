package fastgzip

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/encoding"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
)

// compress runs body through w, as gRPC runs a message through its compressor.
func compress(t *testing.T, w io.WriteCloser, body []byte) {
	t.Helper()
	_, err := w.Write(body)
	require.NoError(t, err)
	require.NoError(t, w.Close())
}

func TestGRPCsGzipCompressesAtBestSpeed(t *testing.T) {
	body := []byte(strings.Repeat(`{"contractId":"c1","quantity":12,"status":"APPLIED"},`, 200))

	var viaGRPC bytes.Buffer
	w, err := encoding.GetCompressor(grpcgzip.Name).Compress(&viaGRPC)
	require.NoError(t, err)
	compress(t, w, body)

	var fast, dflt bytes.Buffer
	fw, err := gzip.NewWriterLevel(&fast, gzip.BestSpeed)
	require.NoError(t, err)
	compress(t, fw, body)
	compress(t, gzip.NewWriter(&dflt), body)

	require.NotEqual(t, dflt.Bytes(), fast.Bytes(), "the sample must tell the two levels apart")
	require.Equal(t, fast.Bytes(), viaGRPC.Bytes(), "gRPC's gzip should write what gzip writes at BestSpeed")

	r, err := gzip.NewReader(&viaGRPC)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, body, got)
}
