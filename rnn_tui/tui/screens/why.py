"""The "why" view: the current step's values as a tree to drill into."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from rnn_tui.core.why import Why


class WhyScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,w", "dismiss", "Close", id="close_why")]
    def __init__(self, title: str, roots: list[Why]) -> None:
        super().__init__()
        self.title_text = title
        self.roots = roots

    def compose(self) -> ComposeResult:
        tree: Tree[Why] = Tree(self.title_text, id="why-tree")
        tree.show_root = True
        tree.root.expand()
        for why in self.roots:
            self._add(tree.root, why)
        with Vertical():
            yield tree
            yield Static("enter/space or click expands a value into what it is made of; "
                         "esc closes", id="why-help")

    def _add(self, parent: TreeNode[Why], why: Why) -> None:
        leaf = why.expand is None and not why.children
        label = Text(why.label)  # plain text: "[NaN …]" or "x_3[d]" is not markup
        if leaf:
            parent.add_leaf(label, data=why)
        else:
            parent.add(label, data=why)

    def on_mount(self) -> None:
        self.query_one(Tree).focus()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Why]) -> None:
        node = event.node
        why = node.data
        if why is None or node.children:
            return
        for child in why.open():
            self._add(node, child)
