"""Read and click a StatusNotifierItem's menu over D-Bus, as a panel would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jeepney import DBusAddress, Properties, new_method_call
from jeepney.io.blocking import open_dbus_connection

ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"


@dataclass
class MenuItem:
    id: int
    label: str
    enabled: bool
    visible: bool
    separator: bool
    checked: bool | None = None  # a check-mark item's state; None for plain items
    parent: int = 0  # the submenu it is in; 0 for the top level


def _flatten(node: Any, out: list[MenuItem], parent: int = 0) -> None:
    item_id, props, children = node
    values = {k: v[1] for k, v in props.items()}
    if item_id != 0:
        label = str(values.get("label", "")).replace("__", "\0").replace("_", "").replace("\0", "_")
        toggle = values.get("toggle-type") in ("checkmark", "radio")
        out.append(
            MenuItem(
                id=item_id,
                label=label,
                enabled=bool(values.get("enabled", True)),
                visible=bool(values.get("visible", True)),
                separator=values.get("type") == "separator",
                checked=bool(values.get("toggle-state", 0) == 1) if toggle else None,
                parent=parent,
            )
        )
    for child in children:
        _flatten(child[1], out, item_id)


class MenuReader:
    def __init__(self, bus_address: str, service: str, item_path: str) -> None:
        self.conn = open_dbus_connection(bus_address)
        self.service = service
        self.item = DBusAddress(item_path, bus_name=service, interface=ITEM_IFACE)
        self.last_revision = -1  # of the last layout() read

    def item_property(self, name: str) -> Any:
        reply = self.conn.send_and_get_reply(Properties(self.item).get(name), timeout=5)
        return reply.body[0][1]

    def _menu_address(self) -> DBusAddress:
        return DBusAddress(self.item_property("Menu"), bus_name=self.service, interface=MENU_IFACE)

    def layout(self) -> list[MenuItem]:
        """The visible entries, in order, as the user would see them."""
        msg = new_method_call(self._menu_address(), "GetLayout", "iias", (0, -1, []))
        reply = self.conn.send_and_get_reply(msg, timeout=5)
        self.last_revision = int(reply.body[0])  # the revision these items belong to
        items: list[MenuItem] = []
        _flatten(reply.body[1], items)
        return [i for i in items if i.visible]

    def revision(self) -> tuple[int, tuple[int, ...]]:
        """The layout's revision and every item id: a rebuild changes both, and a panel
        closes the menu it was showing."""
        msg = new_method_call(self._menu_address(), "GetLayout", "iias", (0, -1, []))
        reply = self.conn.send_and_get_reply(msg, timeout=5)
        items: list[MenuItem] = []
        _flatten(reply.body[1], items)
        return int(reply.body[0]), tuple(i.id for i in items)

    def opened(self, item_id: int) -> None:
        """Open a submenu the way a panel does (AboutToShow, then an "opened" event)."""
        menu = self._menu_address()
        self.conn.send_and_get_reply(new_method_call(menu, "AboutToShow", "i", (item_id,)),
                                     timeout=5)
        self.conn.send_and_get_reply(
            new_method_call(menu, "Event", "isvu", (item_id, "opened", ("s", ""), 0)), timeout=5)

    def click(self, item_id: int) -> None:
        msg = new_method_call(
            self._menu_address(), "Event", "isvu", (item_id, "clicked", ("s", ""), 0)
        )
        self.conn.send_and_get_reply(msg, timeout=5)

    def close(self) -> None:
        self.conn.close()
