package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrPeerUnknown is returned by PeerUID when the kernel knows no socket at the connection's far end (it closed,
// or the connection did not come from this host's network namespace).
var ErrPeerUnknown = errors.New("sandbox: the connecting socket is unknown")

// PeerUID returns the uid owning the socket at the far end of c, a TCP connection accepted on this host (e.g. from
// loopback): the uid of the process that created it. Sandboxes run as uids of their own, so a listener that serves
// one sandbox can refuse every other process with it (the Runtime API does).
//
// It asks the kernel with one exact sock_diag (NETLINK_INET_DIAG) lookup — a hash lookup, not a dump of every socket,
// and needs no privilege.
func PeerUID(c net.Conn) (uint32, error) {
	local, ok1 := addrPort(c.LocalAddr())
	remote, ok2 := addrPort(c.RemoteAddr())
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("sandbox: PeerUID needs a TCP connection, not %s", c.LocalAddr().Network())
	}
	// The far end's socket has the remote address as its source and ours as its destination.
	return socketUID(remote, local)
}

func addrPort(a net.Addr) (netip.AddrPort, bool) {
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	return t.AddrPort(), true
}

// Layout of the request and answer (linux/inet_diag.h): struct inet_diag_req_v2 and struct inet_diag_msg.
const (
	sockIDLen       = 48                    // inet_diag_sockid: sport, dport, src[4], dst[4], if, cookie[2]
	diagReqLen      = 8 + sockIDLen         // inet_diag_req_v2
	diagMsgUIDOff   = 4 + sockIDLen + 12    // inet_diag_msg: family..retrans, id, expires, rqueue, wqueue, uid
	diagMsgMinLen   = diagMsgUIDOff + 4 + 4 // … uid, inode
	sockDiagByFamly = 20                    // SOCK_DIAG_BY_FAMILY
	diagNoCookie    = 0xffffffff            // INET_DIAG_NOCOOKIE
	tcpStatesAll    = 0xffffffff
)

// socketUID looks up the TCP socket whose local end is src and remote end is dst and returns its owner's uid.
func socketUID(src, dst netip.AddrPort) (uint32, error) {
	family := uint8(unix.AF_INET6)
	if src.Addr().Unmap().Is4() && dst.Addr().Unmap().Is4() {
		family = unix.AF_INET
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_INET_DIAG)
	if err != nil {
		return 0, fmt.Errorf("sandbox: sock_diag socket: %w", err)
	}
	defer unix.Close(fd)

	msg := make([]byte, unix.NLMSG_HDRLEN+diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], sockDiagByFamly)
	ne.PutUint16(msg[6:], unix.NLM_F_REQUEST) // no NLM_F_DUMP: the kernel looks the one socket up by its tuple
	ne.PutUint32(msg[8:], 1)
	req := msg[unix.NLMSG_HDRLEN:]
	req[0], req[1] = family, unix.IPPROTO_TCP
	ne.PutUint32(req[4:], tcpStatesAll)
	id := req[8:]
	binary.BigEndian.PutUint16(id[0:], src.Port())
	binary.BigEndian.PutUint16(id[2:], dst.Port())
	putAddr(id[4:20], src.Addr())
	putAddr(id[20:36], dst.Addr())
	ne.PutUint32(id[40:], diagNoCookie)
	ne.PutUint32(id[44:], diagNoCookie)

	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("sandbox: sock_diag request: %w", err)
	}
	buf := make([]byte, 1024)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, fmt.Errorf("sandbox: sock_diag answer: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil || len(msgs) == 0 {
		return 0, fmt.Errorf("sandbox: sock_diag answer: malformed (%v)", err)
	}
	m := msgs[0]
	switch m.Header.Type {
	case unix.NLMSG_ERROR:
		if len(m.Data) >= 4 {
			if errno := unix.Errno(-int32(ne.Uint32(m.Data))); errno == unix.ENOENT {
				return 0, ErrPeerUnknown
			} else if errno != 0 {
				return 0, fmt.Errorf("sandbox: sock_diag: %w", errno)
			}
		}
		return 0, ErrPeerUnknown
	case sockDiagByFamly:
		if len(m.Data) < diagMsgMinLen {
			return 0, errors.New("sandbox: sock_diag answer: short message")
		}
		return ne.Uint32(m.Data[diagMsgUIDOff:]), nil
	}
	return 0, fmt.Errorf("sandbox: sock_diag answer: unexpected message type %d", m.Header.Type)
}

// putAddr writes a in network order into a 16-byte inet_diag address field (IPv4 in the first four bytes).
func putAddr(field []byte, a netip.Addr) {
	if a.Is4() {
		b := a.As4()
		copy(field, b[:])
		return
	}
	b := a.As16()
	copy(field, b[:])
}
