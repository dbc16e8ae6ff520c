// Package replica spreads function code packages over the nodes of a cluster. It wraps a node's local
// *codestore.Store and keeps its contract — blobs named by their SHA-256, extraction a local cache — adding two
// things a cluster needs: an upload is acknowledged only once two nodes hold the package, and a node that needs a
// package it lacks fetches it from a peer.
//
// # Design
//
// Packages never go through etcd (it refuses values over ~1.5 MB): the store records a function's CodeSha256, and
// the bytes live in the code stores of the nodes. The mechanism is the cluster's one blob replication
// (internal/cluster/replicate), the same as for S3 objects:
//
//   - Upload ([Replica.PutZip]): the package is validated and stored locally (fsynced), then pushed to one other
//     live node before PutZip returns: the control plane's acknowledgement (CreateFunction, UpdateFunctionCode)
//     then means two durable copies. Alone in the cluster, one copy (logged once); live peers that all refuse it
//     fail the upload (the caller answers 500 and the client retries).
//   - Need ([Replica.Fetch], and through it [Replica.Extract] and [Replica.ZipPath]): a node lacking a package
//     fetches it from a peer, checked against its name; concurrent needs share one fetch.
//   - Receive ([Replica.Handler], PUT): the body is read up to the code store's MaxZipped limit, its SHA-256
//     compared with the name before anything is stored, then the package is stored with codestore.PutZip, which
//     validates it as an upload would.
//
// # Memory
//
// codestore takes and extracts a package as one byte slice, so a transfer holds one package (at most MaxZipped,
// 50 MiB by default) in memory; transfers into this node (fetches and received pushes) are limited to
// [Options.Transfers] at a time, and a body longer than MaxZipped is refused as soon as it is. Serving a blob
// streams it from disk.
//
// # Trust
//
// Mount [Replica.Handler] behind cluster.PeersOnly. Bodies are not signed; the content address is what makes them
// trustworthy.
package replica
