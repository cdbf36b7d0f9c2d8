"""Text stage: Document → list[Sentence] (written text and its spoken form).

    normalize(text) -> str                       spoken form (rules in normalize.RULES)
    split_sentences(paragraph) -> list[str]      sentences of one paragraph
    clause_breaks(sentence) -> tuple[int, ...]   where a long sentence may be cut
    sentences(doc, *, captions=False) -> list[Sentence]
"""
from reader.text.normalize import RULES, normalize
from reader.text.sentences import clause_breaks, sentences, split_sentences

__all__ = ["RULES", "clause_breaks", "normalize", "sentences", "split_sentences"]
