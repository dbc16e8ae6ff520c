// Package replica spreads function code packages over the nodes of a cluster. It wraps a node's local
// *codestore.Store and keeps its contract — blobs named by their SHA-256, extraction a local cache — adding two
// things a cluster needs: an upload is acknowledged only once two nodes hold the package, and a node that needs a
// package it lacks fetches it from a peer.
//
// # Design
//
// Packages never go through etcd (it refuses values over ~1.5 MB): the store records a function's CodeSha256,
// and the bytes live in the code stores of the nodes, content-addressed, so any copy is as good as any other and
// every copy can be checked against its name.
//
//   - Upload ([Replica.PutZip]): the package is validated and stored locally (fsynced), then pushed to one other
//     live node (PUT /_sluice/cluster/code/<hex sha256>), trying the peers in turn, before PutZip returns: the
//     control plane's acknowledgement (CreateFunction, UpdateFunctionCode) then means two durable copies, so the
//     loss of the node that received the upload loses no package. When live peers exist but none takes the
//     package, PutZip fails (the caller answers 500 and the client retries). When this node is alone in the
//     cluster there is nobody to push to: the upload is acknowledged with one copy and a warning is logged once
//     (again only after a push has succeeded since).
//   - Need ([Replica.Fetch], and through it [Replica.Extract] and [Replica.ZipPath]): a node lacking a blob asks
//     the live peers in turn (GET /_sluice/cluster/code/<hex sha256>), checks the SHA-256 of what it got against
//     the name it asked for (a wrong answer is refused and the next peer asked), stores it locally and goes on.
//     Concurrent needs of one package share one fetch. A node that joins later gets every package it runs this
//     way, and each node that fetched one is one more copy.
//   - Receive ([Replica.Handler], PUT): the body is read up to the code store's MaxZipped limit, its SHA-256
//     compared with the name before anything is stored, then the package is stored with codestore.PutZip, which
//     validates it as an upload would.
//   - Serve ([Replica.Handler], GET): the local blob only, streamed from its file; a node never fetches on behalf
//     of a peer, so requests cannot loop.
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
// The endpoints are meant to be mounted behind cluster.PeersOnly: only requests signed with the cluster's
// secret reach them. Bodies are not signed; the content address is what makes them trustworthy.
package replica
