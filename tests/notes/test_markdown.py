"""The note reader: front matter, headings, wikilinks in both syntaxes, embeds, code ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedforge.errors import InvalidParameterError
from embedforge.notes import chunk_note, parse_note
from embedforge.notes.markdown import RELATED_END, RELATED_START, strip_links

EXCERPT = Path(__file__).parents[1] / "data" / "dendron_excerpt"


def test_obsidian_and_dendron_read_the_pipe_in_opposite_orders():
    text = "See [[cats|my cats]] here."
    obsidian = parse_note(text, syntax="obsidian").links[0]
    dendron = parse_note(text, syntax="dendron").links[0]
    assert (obsidian.target, obsidian.label) == ("cats", "my cats")
    assert (dendron.target, dendron.label) == ("my cats", "cats")


def test_auto_syntax_takes_the_side_that_names_an_existing_note():
    notes = {"animals.cats", "pets"}

    def resolves(name: str) -> bool:
        return name.lower() in notes

    dendron_style = parse_note("[[Cats|animals.cats]]", syntax="auto", resolves=resolves)
    obsidian_style = parse_note("[[pets|my pets]]", syntax="auto", resolves=resolves)
    neither = parse_note("[[a|b]]", syntax="auto", resolves=resolves)
    assert dendron_style.links[0].target == "animals.cats"
    assert obsidian_style.links[0].target == "pets"
    assert (neither.links[0].target, neither.links[0].label) == ("a", "b")  # Obsidian's order


def test_dendron_prefix_anchor_spaces_and_same_note_links():
    text = (
        "[[Create New Vault | dendron://dendron.dendron-site/dendron.topic.vaults#create]] "
        "and [[#summary]] and [[notes/a.md]] and [[x\\|y]]"
    )
    links = parse_note(text, syntax="dendron").links
    assert (links[0].target, links[0].label, links[0].anchor) == (
        "dendron.topic.vaults",
        "Create New Vault",
        "create",
    )
    assert (links[1].target, links[1].anchor) == ("", "summary")
    assert links[2].target == "notes/a"
    assert links[3].target == "y" and links[3].label == "x"  # an escaped pipe splits too


def test_embeds_are_links_with_embed_set_and_leave_no_text():
    note = parse_note("# T\nBefore ![[other.note#part]] after [[plain]].", syntax="obsidian")
    assert [(lk.target, lk.embed) for lk in note.links] == [("other.note", True), ("plain", False)]
    assert note.blocks[0].text == "Before  after plain."


def test_code_blocks_and_inline_code_hold_no_links():
    text = "\n".join(
        [
            "Text [[real]].",
            "",
            "```md",
            "[[in.fence]]",
            "```",
            "",
            "    [[in.indented.code]]",
            "",
            "Inline `[[in.code]]` stays text.",
            "",
            "- item",
            "",
            "  ```",
            "  [[fence.in.list]]",
            "  ```",
        ]
    )
    note = parse_note(text, syntax="obsidian")
    assert [lk.target for lk in note.links] == ["real"]
    assert "in.fence" not in " ".join(b.text for b in note.blocks)
    assert any("`[[in.code]]`" in b.text for b in note.blocks)  # inline code is prose


def test_front_matter_title_headings_and_line_numbers():
    text = "---\ntitle: Cats\ndesc: About cats\n---\n\n# Care\n\nFeed them.\n\n## Food\n\nFish [[fish]].\n"
    note = parse_note(text, syntax="obsidian")
    assert note.title == "Cats" and note.description == "About cats"
    assert [(b.heading, b.start_line, b.end_line) for b in note.blocks] == [
        ("Care", 8, 8),
        ("Care > Food", 12, 12),
    ]
    assert note.links[0].line == 12


def test_title_falls_back_to_the_first_heading_and_bad_yaml_is_ignored():
    note = parse_note("---\n: [bad\n---\n# Heading One\ntext\n")
    assert note.front_matter == {} and note.title == "Heading One"


def test_the_related_block_is_ignored_and_not_hashed():
    body = "# T\n\nSome text.\n"
    block = f"\n{RELATED_START}\n## Related notes\n\n- [[other]] (0.50)\n{RELATED_END}\n"
    plain, with_block = parse_note(body), parse_note(body + block)
    assert with_block.links == [] and with_block.blocks == plain.blocks
    assert with_block.content_hash == plain.content_hash


def test_unknown_syntax_is_refused():
    with pytest.raises(InvalidParameterError, match="syntax"):
        parse_note("x", syntax="roam")


def test_dendron_excerpt_note():
    text = (EXCERPT / "dendron.topic.vaults.md").read_text(encoding="utf-8")
    note = parse_note(text, syntax="dendron")
    assert note.title == "Vaults"
    embeds = [lk for lk in note.links if lk.embed]
    assert embeds[0].target == "dendron.concepts.vault" and embeds[0].line == 11
    # the directory tree in a fenced block is not prose
    assert not any("vault.secret" in b.text for b in note.blocks)
    assert any(b.heading == "Commands > Create New Vault" for b in note.blocks)


def test_strip_links_removes_links_and_their_text_outside_code():
    text = "A [[Label|target]] b ![[embed]] c `[[kept]]`\n```\n[[kept.too]]\n```\n"
    assert strip_links(text) == "A  b  c `[[kept]]`\n```\n[[kept.too]]\n```\n"


def test_chunks_respect_sections_and_the_budget():
    paragraphs = "\n\n".join(" ".join(f"w{i}_{j}" for j in range(30)) for i in range(5))
    text = f"# A\n\n{paragraphs}\n\n# B\n\nshort text\n"
    note = parse_note(text)
    chunks = chunk_note(note, "n.md", max_tokens=64)
    assert [len(c.text.split()) for c in chunks] == [60, 60, 30, 2]
    assert [c.heading for c in chunks] == ["A", "A", "A", "B"]
    assert [c.index for c in chunks] == [0, 1, 2, 3] and chunks[1].id == "n.md#1"
    assert chunks[0].start_line == 3 and chunks[-1].start_line == chunks[-1].end_line
    whole = chunk_note(note, "n.md", max_tokens=None)
    assert len(whole) == 1 and len(whole[0].text.split()) == 152
    assert chunks[-1].embed_text == "n > A > B\nshort text"  # path, title (first heading), heading


def test_a_long_line_is_cut_between_words_and_an_empty_note_still_has_a_chunk():
    note = parse_note(" ".join(["word"] * 250))
    assert [len(c.text.split()) for c in chunk_note(note, "x.md", max_tokens=100)] == [100, 100, 50]
    empty = chunk_note(parse_note("---\ntitle: Only a title\n---\n"), "e.md")
    assert len(empty) == 1 and empty[0].embed_text == "e > Only a title"
