"""The LLM prompt templates, as files beside this module, rendered strictly.

`render("answer_user", passages=..., question=...)`: a variable the template names but the
caller does not give, or one the caller gives that the template does not name, is an error, so a
renamed placeholder can never send a prompt with a hole in it. Templates use llama-index's
`PromptTemplate` syntax: `{name}` is a variable, `{{` and `}}` are literal braces.
"""

from functools import cache
from pathlib import Path

from llama_index.core.prompts import PromptTemplate

FOLDER = Path(__file__).resolve().parent


class PromptError(ValueError):
    """A template was rendered with missing or unexpected variables, or does not exist."""


@cache
def template(name: str) -> PromptTemplate:
    path = FOLDER / f"{name}.txt"
    if not path.is_file():
        raise PromptError(f"There is no prompt template {name!r} in {FOLDER}.")
    return PromptTemplate(path.read_text(encoding="utf-8").rstrip("\n"))


def render(name: str, **values: object) -> str:
    prompt = template(name)
    expected = set(prompt.template_vars)
    missing = sorted(expected - values.keys())
    unexpected = sorted(values.keys() - expected)
    if missing or unexpected:
        raise PromptError(
            f"Prompt {name!r} needs {sorted(expected)}; missing {missing}, unexpected {unexpected}."
        )
    return prompt.format(**{key: str(value) for key, value in values.items()})
