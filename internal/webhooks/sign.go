package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// secretPrefix marks a signing secret; the rest is its key in base64.
const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: 32 random bytes.
func NewSecret() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// Sign returns the Webhook-Signature of a message: "v1," and the base64
// HMAC-SHA256 of "id.timestamp.body", keyed with the secret's decoded key
// (the Standard Webhooks scheme, so receivers can verify with its libraries).
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	encoded, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return "", errors.New("the webhook secret lacks its " + secretPrefix + " prefix")
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("decode webhook secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
