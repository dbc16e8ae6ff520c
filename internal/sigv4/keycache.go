package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
)

// maxCachedKeys bounds the signing-key cache. A derived key is valid for one
// (secret, day, region, service), so a few hundred entries cover every
// active caller; when full an arbitrary entry is dropped.
const maxCachedKeys = 512

type keyCacheKey struct {
	secret, date, region, service string
}

// keyCache memoises derived SigV4 signing keys. Its zero value is ready.
type keyCache struct {
	mu   sync.RWMutex
	keys map[keyCacheKey][]byte
}

func (c *keyCache) get(k keyCacheKey) ([]byte, bool) {
	c.mu.RLock()
	key, ok := c.keys[k]
	c.mu.RUnlock()
	return key, ok
}

// put stores a key. Only keys that just verified a signature are stored, so
// requests with made-up scopes cannot churn the cache without a valid secret.
func (c *keyCache) put(k keyCacheKey, key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = make(map[keyCacheKey][]byte)
	}
	if _, ok := c.keys[k]; ok {
		return
	}
	for len(c.keys) >= maxCachedKeys {
		for old := range c.keys {
			delete(c.keys, old)
			break
		}
	}
	c.keys[k] = key
}

// deriveSigningKey computes kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret,
// date), region), service), "aws4_request").
func deriveSigningKey(k keyCacheKey) []byte {
	kDate := hmacSHA256([]byte("AWS4"+k.secret), k.date)
	kRegion := hmacSHA256(kDate, k.region)
	kService := hmacSHA256(kRegion, k.service)
	return hmacSHA256(kService, scopeTerminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
