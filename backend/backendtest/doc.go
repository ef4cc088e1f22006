// Package backendtest is the conformance suite every [backend.Backend]
// implementation passes.
//
// An implementation's test calls [Run] with a function that makes a fresh,
// unstarted Backend:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend { return memory.New() })
//	}
//
// Each case checks one rule of the contract in the backend package's
// documentation, on its own Backend, in a parallel subtest. Cases register
// tasks with unique names, so backends that share a server (a Hatchet
// engine) can run them side by side; they assume nothing about run id
// formats and bound every wait (see [WaitTimeout]), so they work with real
// distributed backends and stay fast on in-process ones.
package backendtest
