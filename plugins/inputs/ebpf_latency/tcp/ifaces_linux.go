package tcp

import "github.com/vishvananda/netlink"

// ifaceNames resolves interface indexes through netlink, caching each
// answer: a device that disappears keeps the name it had.
type ifaceNames struct {
	handle *netlink.Handle // nil: the plugin's own network namespace
	names  map[uint32]string
}

func newIfaceNames() *ifaceNames {
	return &ifaceNames{names: map[uint32]string{}}
}

func (n *ifaceNames) name(ifindex uint32) string {
	if name, ok := n.names[ifindex]; ok {
		return name
	}
	var (
		link netlink.Link
		err  error
	)
	if n.handle != nil {
		link, err = n.handle.LinkByIndex(int(ifindex))
	} else {
		link, err = netlink.LinkByIndex(int(ifindex))
	}
	if err != nil {
		return "" // not cached: the device may appear later
	}
	n.names[ifindex] = link.Attrs().Name
	return link.Attrs().Name
}
