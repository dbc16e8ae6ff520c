package parameterstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// cipherVersion starts every ciphertext, so that another scheme can follow without guessing.
const cipherVersion = 1

// sealer encrypts SecureString values with AES-256-GCM. The additional data binds a ciphertext to its
// parameter's name and version, so a value copied into another parameter's record (or version) does not decrypt.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("parameterstore: the SecureString key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func additionalData(name string, version int64) []byte {
	return []byte(name + "\x00" + strconv.FormatInt(version, 10))
}

// seal returns the value as a SecureString is answered without decryption: base64 of the version byte, the nonce
// and the sealed value (AWS answers base64 of a KMS ciphertext blob).
func (s *sealer) seal(name string, version int64, plain string) (string, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = cipherVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return "", err
	}
	out = s.aead.Seal(out, out[1:], []byte(plain), additionalData(name, version))
	return base64.StdEncoding.EncodeToString(out), nil
}

var errCiphertext = errors.New("parameterstore: a SecureString value does not decrypt with this server's key")

func (s *sealer) open(name string, version int64, text string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(text)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < 1+n || raw[0] != cipherVersion {
		return "", errCiphertext
	}
	plain, err := s.aead.Open(nil, raw[1:1+n], raw[1+n:], additionalData(name, version))
	if err != nil {
		return "", errCiphertext
	}
	return string(plain), nil
}
