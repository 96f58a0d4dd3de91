"""What checking an LLM's answer costs: `python bench/verify_cost.py [--repeat R]`.

Answers the sample facts' answerable questions with the LLM answerer against the tests'
scripted OpenAI-compatible server (instant replies: the evidence sentence plus one made-up
sentence, both cited), so the timings are Dossier's own: retrieval, the evidence test, the
prompt, parsing and verifying the sentences. Reports each stage's median and 95th percentile
in milliseconds over R passes after a warm-up; writes bench/results/verify.json. Needs the
sample index (`dossier eval eval/datasets/sample-facts.jsonl` builds `.dossier/eval/articles`).
"""

import argparse
import sys
from pathlib import Path

from stages import stage_percentiles, write_result

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(".dossier/eval/articles"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # The engine is imported after the arguments are read, so that `--help` answers at once.
    from eval.datasets import load_dataset
    from ingest.embedding import Embedder
    from server.engine.service import IndexHandle
    from server.engine.settings import LLMSettings
    from server.settings import Settings

    sys.path.insert(0, str(ROOT))
    from tests.llm_servers import Reply, ScriptedLLM  # after the path: tests is not installed

    questions = [
        q for q in load_dataset(ROOT / "eval/datasets/sample-facts.jsonl").questions if q.evidence
    ]
    laps: dict[str, list[float]] = {}
    with ScriptedLLM() as llm:
        settings = Settings(
            llm=LLMSettings(answerer="llm", llm_base_url=llm.url, llm_model="scripted")
        )
        settings.store.data_dir = args.data_dir
        service = IndexHandle(settings, Embedder(settings.embedding)).service()
        for number in range(args.repeat + 1):
            for question in questions:
                llm.script(
                    Reply(
                        f"{question.evidence[0]} [1]. The talks also covered a joint mission to Mars [2]."
                    )
                )
                timings = service.ask(question.question).timings_ms
                for stage, ms in timings.items():
                    if number:  # the first pass warms caches up
                        laps.setdefault(stage, []).append(ms)
    result = {
        "questions": len(questions),
        "repeat": args.repeat,
        "ms": stage_percentiles(laps),
    }
    write_result("verify", result)


if __name__ == "__main__":
    main()
