package emutest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync"
)

// sharedKey is the signing key of the orgs Start serves, unless the
// configuration gives one: a fixed key, since generating a 2048-bit RSA
// key takes up to seconds under the race detector, in every test binary.
// It signs test tokens only. The PEM says "TESTING KEY" so that secret
// scanners do not take it for a real one.
var sharedKey = sync.OnceValue(func() *rsa.PrivateKey {
	block, _ := pem.Decode([]byte(strings.ReplaceAll(testKeyPEM, "TESTING KEY", "PRIVATE KEY")))
	if block == nil {
		panic("emutest: the test signing key is not PEM")
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		panic("emutest: the test signing key: " + err.Error())
	}
	return k
})

const testKeyPEM = `-----BEGIN RSA TESTING KEY-----
MIIEpAIBAAKCAQEAunrmYRSQz1fAIi9o4xta3yI/Y9KQpMuVP0/IuOyKtuiMkdyT
72X4cbxNsTrj5LVON4Q6DwoWu3GTEZY+rKtK5aPuHflnFqyp9Ua050v/tiC637Z+
pq6xOKiXgLVlReMWbwN9OupcVnMI1G38C5c8XkXZcwFbsYEhFAPf178cVqYLXsfM
CXdDLfTt84Ik24gKzwHGjL/kbYQ4F3zq2p3KONJW7F1QCIGYMmupGMoDyz9WH0DB
CE8wGLhE1K+7ZEHE9gKhr9wDKrI6eAiYODnMvKERFulPN29dXVqtKi6skZKZNTP/
jSlvmDwGmQ66Li2/WNBLwvaLAMxs4Ibo5I2oswIDAQABAoIBABo4FnU23YdxmI+V
5+LqoTO3Tn9cBz9Man8c2iV6CKTf/Iezok8qIKzpI2lUVN9+yHEQ09LygbC4Lsvt
uoEvklfIXT30p5RuEXVtjBjrPBhg8LVspNENxdgoCCkuF/+kBq70KCLk+bej8+1e
S25bxL6ihojfe4NxGvQD+XCNq8/YyikLjpp44tRyomzA1pDCty4Bnvu/0qSl+NMv
D/j8Ddj592wEU4dWn81UsycRrKGOqICxy7/pA47id80J5KaUMzmYFCumEYVbElbt
w9CtGdh92rv14s/qFOhtML0f5z4j5G/HNFgWEVrCVaa25uPpX4vdERsTMluFERue
SZ41VaUCgYEA68NmasARh/GMwLgWwjp2/zJPf3TrbrTOSRclSjt2jNbqfFo6D3M2
cREqOr39kTgm9d/mdT2FsRWV0ido82y9BVV02ObLlzcmgwmYiwHhXPHPgQyVS5cj
AkQsD1BtGhQDYvNIhl34GU37DC+5X4JwEAbRfww3urbYJldaSk2fgL8CgYEAynyQ
U/bbQYpLrPNRLX4meybgkDSv7dpdoNhsGUBKNV3Mj31ZgoUXnN9erCKSckpTSWMA
xOdBsnfHH1RsXYUPQzzVsQLmdzgcIyvQFpcnu9RwimRMPc7PDHlnQpdE5yDG1HkT
4RwfZC+ehg7Npgym9ciUtrvuqBiEiBVBa/+EoQ0CgYEA0ZW/Mh7UdtlQmvILqVZ3
+p0q9s9li+DHkUo2KCt8U++qPCmpe5qcRx9PPzEufS5B1EnagVbTxny91ziZn+yG
jHtPiJKDYkXwwoSBSvG8+fcs1DfvcGdHA/i+gk6o7onkCM7lJi3bJAOirU6vqCw4
msa07hBaam2o8UyuQ2eF59kCgYEAvcKi161eqTtb1Edq6kFw+rTiewKFZVjhqd1o
4Pk5Em5HSKnmesUT7fX/mT4FFIrHJt1bWSyIiyJpP9k0fSg3t4GJmgvnxA6Xf/aN
Wr5phEOA/JEmSj5IF56mwOdWsWwsKe8WTD64xIFEBMpWu6jbxzck92OEM5BWk9mn
p/icaPkCgYBai1TM8tdVl1+hWsqmNxJqVdq6jY5d/hVqrLyvj8FpTQZoIeOsaFrF
s4sm/HNtLVhfGestLSrG/wglRIJaFI58wx03XM6FNg+XdCHsjREXn+PPQr0S6A7m
UurLHQbFmZLA8B7kunZFu3utb/26gCkwA+JyAwoGl1W5gtlIOw4hxg==
-----END RSA TESTING KEY-----
`
