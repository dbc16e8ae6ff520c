// Package codestore owns function code packages: it validates uploaded zip
// files (Lambda's Code.ZipFile), stores them durably under their content
// address, and extracts them into read-only, content-addressed code
// directories that function processes execute from.
//
// Nothing outside this package should open, parse or unpack a code zip, and
// nothing outside it should create or delete anything below the store's root.
//
// # Content address
//
// A package is identified by the SHA-256 of its zip bytes. Callers speak the
// Lambda form, CodeSha256: standard base64 with padding (44 characters). On
// disk the same digest is spelled in lowercase hex (64 characters). Only the
// canonical base64 spelling is accepted; anything else yields
// [ErrInvalidSha256].
//
// # On-disk layout and permissions
//
//	root/                  0711  (created by Open if missing; an existing root keeps its mode)
//	root/blobs/            0700  only the server uid may list or read blobs
//	root/blobs/<hex>.zip   0400  the uploaded zip, byte for byte
//	root/code/             0711  traversable but not listable by other uids
//	root/code/<hex>/       0555  an extracted package (dirs 0555, files 0444/0555)
//	root/*/.tmp-*                in-progress writes; never visible under a final name
//
// Function processes run as a different, unprivileged uid. They need to reach
// code/<hex>, so root and code/ are 0711: other uids may traverse them but not
// list them, so a package is only reachable by a process that already knows its
// digest. This is not an isolation boundary between packages: any uid that knows
// a digest can read that package. Blobs stay private (0700) because only the
// server itself reads them (to extract them and to serve GetFunction's
// Code.Location download). If root already exists, Open leaves its mode alone;
// the operator must then make sure it is at least 0711 (o+x) if functions run
// as another uid.
//
// Extracted trees are immutable: regular files are 0444, or 0555 when the zip
// marks them executable (any x bit in the Unix mode) or when the file is named
// "bootstrap" (at any depth; zips made on Windows lose the x bit and a custom
// runtime's bootstrap must be executable). Directories are 0555. Ownership is
// the server's uid; the zip's owners, setuid/setgid/sticky bits and timestamps
// are ignored.
//
// # Validation
//
// [Inspect] performs the cheap, synchronous checks that run while a client
// waits (CreateFunction, UpdateFunctionCode). [Store.Extract] repeats them and
// additionally decompresses every entry, enforcing the limits on bytes really
// produced (not just on declared sizes) and checking every CRC-32 itself, even
// when the zip claims a CRC of zero, which archive/zip would skip.
//
// Rejected: unreadable or truncated archives; encrypted entries; compression
// methods other than store and deflate; stored entries whose sizes differ;
// entries whose data overlap (the "overlapping files" bomb); names that are
// empty, absolute, contain NUL, a backslash, a drive letter or any ".."
// element; names longer than 4095 bytes or with an element longer than 255
// bytes; duplicate names after cleaning ("a" and "./a", or "d" and "d/");
// entries below a non-directory entry (including below a symlink); device
// files, FIFOs, sockets and other special files; symlinks that are absolute,
// longer than 4095 bytes, form a loop, or resolve outside the package — the
// check follows other symlinks of the same package, so chains such as
// s1 -> "." plus s2 -> "s1/.." are caught; too many entries; a zip larger
// than Limits.MaxZipped; declared or actual uncompressed size above
// Limits.MaxUnzipped; and any entry whose uncompressed/compressed ratio
// exceeds Limits.MaxRatio. Deflate cannot exceed about 1032:1 on its own, so
// the default cap of 1000:1 only triggers on near-pure repetition (hundreds of
// KiB of zeros or more) and never on small files.
//
// An empty archive (no entries) is accepted and extracts to an empty
// directory. The function will then fail at init because its handler is
// missing, which is where AWS reports the same mistake.
//
// # Durability and crash safety
//
// PutZip writes a temporary file, fsyncs it, renames it into place and
// fsyncs the directory. Extract unpacks into code/.tmp-* (same parent as the
// final name, so the rename needs no write permission on the read-only tree),
// fsyncs every file and directory, sets the final modes, then renames and
// fsyncs code/. A crash therefore leaves either nothing or a complete package
// under the final name, plus possibly .tmp-* leftovers, which never collide
// with later work (names are random) and are removed by the next Open.
// Remove first renames a code directory to a .tmp-* name, so a crash during
// deletion cannot leave a partial tree that CodeDir would report as present.
//
// A Store assumes it is the only user of its root directory; within one
// process, operations on the same digest are serialized, so concurrent
// Extract calls for one package do the work once and all get the same
// directory.
//
// # Errors
//
// Validation failures are returned as *[Error], whose Error method yields the
// message AWS Lambda shows for the same problem (see [Reason]). Missing or
// malformed digests yield [ErrNotFound] or [ErrInvalidSha256]. Any other error
// is an internal (I/O) failure of the host.
package codestore
