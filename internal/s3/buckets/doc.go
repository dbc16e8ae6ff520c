// Package buckets owns S3's use cases over the store: buckets and their configurations (versioning, policy,
// encryption, public access block, lifecycle, tags), objects and their versions, delete markers, listings, copies
// and multipart uploads. Object bytes live in a blobstore (content-addressed files on this node's disk); the store
// holds every record, so the records are shared by every node of a cluster (see docs/compatibility.md for what that
// means for the bytes).
//
// Store layout (values JSON):
//
//	s3/bucket/<bucket>                        Bucket: creation, region, versioning, policy, configuration documents
//	s3/obj/<bucket>/<key>                     head: the key's latest version (a copy) and its version counter
//	s3/ver/<bucket>/<key>\x00<^seq, 16 hex>    Version: one per version, newest first within a key, delete markers
//	                                          included; an unversioned bucket's object is its "null" version
//	s3/up/<bucket>/<key>\x00<upload id>        Upload: a multipart upload in progress
//	s3/part/<upload id>/<part number, 5 digits> Part: an uploaded part and the blob holding it
//
// Keys never hold U+0000 (s3.CheckKey), so "<key>\x00" sorts every version of a key before any longer key, and a
// scan of s3/ver/<bucket>/ is ListObjectVersions' order.
//
// An object's bytes are streamed into a blob first (hashed: SHA-256 names the blob, MD5 is the ETag, the
// flexible checksum is computed), checked against every digest the request declared, fsynced and renamed into
// place; only then is the version record committed, so a reader never sees a version whose bytes are not whole
// and durable, and a body that fails a check leaves nothing visible. A multipart upload's parts are blobs too;
// CompleteMultipartUpload streams them, in order, into the object's one blob. Blobs no record names are swept
// (blobstore.Sweep, with the live set from LiveBlobs).
package buckets
