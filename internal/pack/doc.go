// Package pack owns turning a function's CodeUri into the deployment package `sluice deploy` uploads: it
// builds Go functions into a bootstrap and zips code directories so that the same files always give the same
// zip, and so the same CodeSha256.
//
// Nothing here talks to the server; [Package] returns the zip and its CodeSha256, and the caller decides
// whether the function needs updating.
//
// # What is packaged
//
// Spec.Dir may be:
//
//   - a .zip file: used as it is (checked to be a zip and to fit Lambda's limits, not rewritten);
//   - any other regular file: zipped alone under its base name;
//   - a directory holding a Go main package to build (see [NeedsGoBuild]): the zip holds only the built
//     bootstrap;
//   - any other directory: every regular file under it, except entries named .git, .aws-sam, __pycache__ or
//     .DS_Store at any depth (version control, SAM's build output, Python's bytecode cache, Finder metadata).
//
// Only Go is built. A BuildMethod other than "" and go1.x (makefile, esbuild, …) is refused rather than
// packaging unbuilt sources: build the code yourself and point CodeUri at the result.
//
// Symbolic links are followed when their target is inside Dir: a link to a file is stored as a copy of the
// file under the link's name, a link to a directory as copies of the directory's files. A link that points
// outside Dir, dangles or loops back into one of its own parent directories is an error naming the link.
// Devices, sockets and pipes are errors too.
//
// # Deterministic zips
//
// The zip depends on file names, contents and execute bits only, never on modification times, directory
// walk order, owners, umask or the machine: entries are sorted by slash-separated path, all dated
// 1980-01-01 00:00 UTC (the zip format's epoch), Deflate-compressed, and carry Unix mode 0755 when any execute
// bit is set on disk and 0644 otherwise. A top-level file named bootstrap is always 0755, as Lambda can only
// run it that way and checkouts on Windows have no execute bits. The output depends on compress/flate, so the
// bytes are stable for a given Sluice build; a Go release could in principle change them.
//
// There are no directory entries: unzip, Lambda and Sluice's code store create parent directories as needed,
// and directory entries would only add mtimes and modes to normalise. Empty directories are therefore not
// packaged.
//
// # Go functions
//
// A Go function is built as `sam build` builds one for provided.* runtimes, but reproducibly:
//
//	GOOS=linux GOARCH=amd64|arm64 CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -tags lambda.norpc -o <tmp>/bootstrap .
//
// run in Dir with the rest of the environment inherited (GOPATH, GOCACHE, GOFLAGS, GOPROXY, GOWORK, …).
// lambda.norpc leaves out aws-lambda-go's RPC mode, which only the retired go1.x runtime used. -trimpath keeps
// the checkout's path out of the binary and -buildvcs=false the commit, so with the same Go toolchain an
// unchanged main package and go.sum give a byte-identical bootstrap: a rebuild does not create a new Lambda
// version. The go command is $GOROOT/bin/go when
// GOROOT is set, otherwise the first go on PATH. A failed build returns a [*BuildError] carrying the
// compiler's output.
//
// # Limits
//
// Lambda refuses packages over 50 MiB zipped (direct upload) or 250 MiB unzipped; so does Sluice's code store.
// Package checks both before anything is uploaded and returns an error wrapping [ErrTooLarge].
package pack
