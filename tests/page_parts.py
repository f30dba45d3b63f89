"""Reading server-rendered pages in tests: ids, labels, forms, table rows, as a browser parses them."""

from __future__ import annotations

import collections
import html.parser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None"):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join(" ".join(parts).split())

    def walk(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def find_all(self, tag: str | None = None, **attrs) -> list["Node"]:
        found = []
        for node in self.walk():
            if tag and node.tag != tag:
                continue
            if all(
                (name == "class_" and value in node.attrs.get("class", "").split())
                or (name != "class_" and node.attrs.get(name.replace("_", "-")) == value)
                for name, value in attrs.items()
            ):
                found.append(node)
        return found

    def find(self, tag: str | None = None, **attrs) -> "Node | None":
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def ancestor(self, tag: str) -> "Node | None":
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node


class _Builder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: (v or "") for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(page: str) -> Node:
    builder = _Builder()
    builder.feed(page)
    return builder.root


def duplicate_ids(page: str) -> list[str]:
    counts = collections.Counter(node.attrs["id"] for node in parse(page).walk() if "id" in node.attrs)
    return sorted(name for name, count in counts.items() if count > 1)


def control_for(page: str, label_text: str) -> Node:
    """The control a label (found by its text) points at, failing if the label or its target is missing."""
    root = parse(page)
    labels = [n for n in root.find_all("label") if n.text().startswith(label_text)]
    assert len(labels) == 1, f"{len(labels)} labels read {label_text!r}"
    target = labels[0].attrs.get("for")
    controls = [n for n in root.walk() if n.attrs.get("id") == target]
    assert len(controls) == 1, f"label {label_text!r} points at {len(controls)} elements (id {target!r})"
    return controls[0]


def table_rows(page: str, table_id: str) -> list[dict[str, str]]:
    """Each body row of a table as {cell class: cell text}."""
    table = parse(page).find("table", id=table_id)
    assert table is not None, f"no table #{table_id}"
    rows = []
    for row in table.find("tbody").find_all("tr"):
        rows.append({cell.attrs.get("class", "").split()[0]: cell.text() for cell in row.find_all("td")
                     if cell.attrs.get("class")})
    return rows


def row_node(page: str, table_id: str, cell_class: str, text: str) -> Node:
    table = parse(page).find("table", id=table_id)
    for row in table.find("tbody").find_all("tr"):
        cell = row.find("td", class_=cell_class)
        if cell is not None and cell.text() == text:
            return row
    raise AssertionError(f"no row of #{table_id} with {cell_class} {text!r}")
