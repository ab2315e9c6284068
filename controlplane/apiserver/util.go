package apiserver

import (
	"crypto/sha256"
	"encoding/base64"
	"net"
	"strconv"
)

func hashString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
