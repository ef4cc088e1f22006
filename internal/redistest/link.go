package redistest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Link is a TCP proxy on a free loopback port to a target address that a
// test can cut: it then drops every byte in both directions while the
// connections stay open, as a network partition does. A replica that
// replicates through a cut link neither receives its primary's writes nor
// acknowledges them, and what it missed is gone if the primary dies.
type Link struct {
	Addr   string
	target string
	ln     net.Listener
	cut    atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

// NewLink starts a link to target, closed when t ends.
func NewLink(t testing.TB, target string) *Link {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Link{Addr: ln.Addr().String(), target: target, ln: ln}
	go l.accept()
	t.Cleanup(l.close)
	return l
}

// Cut drops every byte from now on.
func (l *Link) Cut() { l.cut.Store(true) }

func (l *Link) accept() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", l.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		l.mu.Lock()
		l.conns = append(l.conns, c, s)
		l.mu.Unlock()
		go l.pipe(s, c)
		go l.pipe(c, s)
	}
}

// pipe copies src to dst until either closes, dropping what it reads
// while the link is cut.
func (l *Link) pipe(dst, src net.Conn) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !l.cut.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (l *Link) close() {
	_ = l.ln.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		_ = c.Close()
	}
}
