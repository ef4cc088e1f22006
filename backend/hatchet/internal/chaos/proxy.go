package chaos

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// proxy is a TCP proxy between the workers and Redis that can cut replies:
// when armed, it reads a reply from Redis, drops it and closes both ends of
// that connection. The command took effect; its caller sees a broken
// connection, and cannot tell it from one that never arrived.
type proxy struct {
	ln     net.Listener
	target string

	every   atomic.Int64 // 0: forward every reply; n: cut every n-th one
	replies atomic.Int64 // replies read from Redis
	cuts    atomic.Int64 // replies cut

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// newProxy listens on a free loopback port and forwards to target until
// the test ends.
func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the address the workers dial instead of Redis.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

// cut arms the proxy to cut every n-th reply from now on; 0 disarms it.
func (p *proxy) cut(n int) { p.every.Store(int64(n)) }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !p.track(c, s) {
			return
		}
		p.wg.Add(2)
		go p.pipe(s, c, false) // requests, forwarded whole
		go p.pipe(c, s, true)  // replies, which may be cut
	}
}

// track notes an open pair; false once the proxy is closed.
func (p *proxy) track(c, s net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		_ = c.Close()
		_ = s.Close()
		return false
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	return true
}

// pipe copies from src to dst until either fails; replies says src is
// Redis, whose reads may be cut. Both ends are closed on the way out, so
// the other direction ends too.
func (p *proxy) pipe(dst, src net.Conn, replies bool) {
	defer p.wg.Done()
	defer p.drop(dst, src)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if replies && p.cutNow() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cutNow counts a reply read and says whether to cut it.
func (p *proxy) cutNow() bool {
	k := p.replies.Add(1)
	n := p.every.Load()
	if n <= 0 || k%n != 0 {
		return false
	}
	p.cuts.Add(1)
	return true
}

func (p *proxy) drop(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// close stops listening, closes every open connection and waits for the
// proxy's goroutines.
func (p *proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
