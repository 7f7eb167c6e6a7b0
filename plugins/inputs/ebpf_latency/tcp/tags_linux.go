package tcp

import (
	"fmt"
	"net/netip"
	"strconv"
)

// tagger turns series keys into tags.
type tagger struct {
	cfg    *Config
	ifaces *ifaceNames
}

func newTagger(cfg *Config) *tagger {
	return &tagger{cfg: cfg, ifaces: newIfaceNames()}
}

// peerName is the peer tag: the address (v4-mapped shown as IPv4), the
// group's name, or "other".
func (t *tagger) peerName(kind uint8, addr [16]byte, group uint32) string {
	switch kind {
	case kindAddr:
		return netip.AddrFrom16(addr).Unmap().String()
	case kindGroup:
		if int(group) < len(t.cfg.PeerGroups) {
			return t.cfg.PeerGroups[group].Name
		}
		return fmt.Sprintf("group%d", group)
	}
	return OtherPeer
}

func (t *tagger) tags(k *tcpKey) map[string]string {
	tags := map[string]string{"peer": t.peerName(k.Kind, k.Addr, k.Group)}
	if t.cfg.ByPort {
		tags["port"] = strconv.Itoa(int(k.Port))
	}
	if t.cfg.ByInterface {
		tags["iface"] = t.iface(k.Ifindex)
	}
	return tags
}

func (t *tagger) iface(ifindex uint32) string {
	if ifindex == 0 {
		return "unknown"
	}
	if n := t.ifaces.name(ifindex); n != "" {
		return n
	}
	return strconv.Itoa(int(ifindex))
}
