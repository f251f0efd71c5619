package webhooks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// Timeout bounds one attempt, from dialling to the end of the answer.
	Timeout = 10 * time.Second
	// MaxStoredBody bounds what is read and kept of a receiver's answer.
	MaxStoredBody = 1024
	// maxResponseHeaderBytes bounds a receiver's answer's headers; more
	// fails the attempt.
	maxResponseHeaderBytes = 64 << 10
)

// Sender posts signed messages to receivers.
type Sender struct {
	config Config
	client *http.Client
}

// NewSender builds a sender that enforces c's address rules on every
// connection it makes.
func NewSender(c Config) *Sender {
	dialer := &net.Dialer{Timeout: Timeout, Control: c.checkDial}
	return &Sender{config: c, client: &http.Client{
		Timeout: Timeout,
		Transport: &http.Transport{
			// No proxy from the environment: it would connect for us, unchecked.
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: Timeout,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
			// Only the status and a little of the body are kept: a receiver
			// may not make an attempt read megabytes of headers (Go's
			// default allows 10 MB).
			MaxResponseHeaderBytes: maxResponseHeaderBytes,
		},
		// A redirect counts as a failed attempt: followed, it could lead anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Message is one event for one receiver.
type Message struct {
	URL    string
	Secret string
	// ID is the event's id, sent as Webhook-Id for receivers to de-duplicate.
	ID   string
	Body []byte
}

// Response is how an attempt went. SentAt and Latency are set even when
// sending failed; StatusCode and Body only when the receiver answered.
type Response struct {
	SentAt     time.Time
	Latency    time.Duration
	StatusCode int
	// Body is the start of the answer: at most MaxStoredBody bytes of valid
	// UTF-8, without NUL characters, so it can be stored as text.
	Body string
}

// Delivered reports a 2xx answer.
func (r Response) Delivered() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// Gone reports a 410 answer: the receiver wants no more events.
func (r Response) Gone() bool { return r.StatusCode == http.StatusGone }

// Send posts a message, signed as of now. The URL is checked again, as the
// rules may have tightened since it was accepted.
func (s *Sender) Send(ctx context.Context, m Message) (Response, error) {
	resp := Response{SentAt: time.Now()}
	if _, err := s.config.parseURL(m.URL); err != nil {
		return resp, err
	}
	signature, err := Sign(m.Secret, m.ID, resp.SentAt.Unix(), m.Body)
	if err != nil {
		return resp, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return resp, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "contractd-webhooks/1")
	req.Header.Set("Webhook-Id", m.ID)
	req.Header.Set("Webhook-Timestamp", strconv.FormatInt(resp.SentAt.Unix(), 10))
	req.Header.Set("Webhook-Signature", signature)
	answer, err := s.client.Do(req)
	if err != nil {
		resp.Latency = time.Since(resp.SentAt)
		return resp, err
	}
	defer answer.Body.Close()
	// The rest of the body is dropped unread: a receiver cannot make us read
	// more. An answer cut short still has its status; what arrived is kept.
	head, _ := io.ReadAll(io.LimitReader(answer.Body, MaxStoredBody))
	resp.Latency = time.Since(resp.SentAt)
	resp.StatusCode, resp.Body = answer.StatusCode, storable(head)
	return resp, nil
}

// storable makes a receiver's bytes safe to store as text within MaxStoredBody.
func storable(b []byte) string {
	var sb strings.Builder
	for _, r := range strings.ToValidUTF8(string(b), "\uFFFD") {
		if r == 0 {
			continue
		}
		if sb.Len()+utf8.RuneLen(r) > MaxStoredBody {
			break
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
