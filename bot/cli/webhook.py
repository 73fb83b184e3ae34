"""`python -m bot set-webhook URL [--delete]`: register the webhook with each platform.

For every platform whose token is set, `setWebhook` with URL/webhook/<platform>/<secret>
(the secret from TELEGRAM_WEBHOOK_SECRET / BALE_WEBHOOK_SECRET, else WEBHOOK_SECRET); on
Telegram with `secret_token` too, which Telegram then sends in the X-Telegram-Bot-Api-Secret-Token
header of every update. Bale's setWebhook takes the url alone (the Bale client libraries send
only `url`; no secret-token header is documented), so on Bale the secret path is the check.
`--delete` removes the webhook (`deleteWebhook`, pending updates kept): polling works again.
One line per platform, the secret never printed; exit code 1 when a platform refused, 2 on a
wrong setting or argument. Same settings as the bot (tokens, API URLs, proxies, .env).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli.drafts import _Parser
from bot.config import Settings, SettingsError, load_settings
from bot.runtime.boundary import classify
from bot.runtime.platforms import make_bot
from bot.runtime.webhook import webhook_path
from desk.model import Platform


def build_parser() -> argparse.ArgumentParser:
    """The `set-webhook` command line."""
    parser = _Parser(
        prog="python -m bot set-webhook",
        description="Register (or remove) the webhook with each platform whose token is set.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument(
        "url", nargs="?", help="the public base URL nginx serves, e.g. https://bot.example.ir"
    )
    parser.add_argument("--delete", action="store_true", help="remove the webhook instead")
    return parser


def shown(base: str, platform: Platform) -> str:
    """The registered URL as printed: the secret left out."""
    return f"{base}/webhook/{platform.value}/<secret>"


async def register(settings: Settings, base: str | None, *, delete: bool) -> tuple[int, list[str]]:
    """setWebhook (or deleteWebhook) on each platform; (exit code, one line each)."""
    lines: list[str] = []
    code = 0
    for platform, token in settings.tokens().items():
        bot = make_bot(platform, token, settings.api_url(platform), retry=False,
                       proxy=settings.proxy(platform))  # fmt: skip
        try:
            if delete:
                await bot.delete_webhook(drop_pending_updates=False)
                lines.append(f"{platform.value}: webhook removed (polling works again)")
                continue
            assert base is not None
            secret = settings.webhook_secret_for(platform)
            assert secret is not None
            url = base + webhook_path(platform, secret)
            if platform is Platform.TELEGRAM:
                await bot.set_webhook(url=url, secret_token=secret, drop_pending_updates=False)
            else:
                await bot.set_webhook(url=url)
            lines.append(f"{platform.value}: webhook set to {shown(base, platform)}")
        except Exception as exc:
            verdict = classify(exc, group=False)
            lines.append(f"{platform.value}: refused ({verdict.reason})")
            code = 1
        finally:
            await bot.session.close()
    return code, lines


def main(argv: list[str]) -> int:
    """`python -m bot set-webhook ...`; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not settings.tokens():
        print("error: no bot token is set (TELEGRAM_BOT_TOKEN, BALE_BOT_TOKEN)", file=sys.stderr)
        return 2
    base = None
    if not args.delete:
        if not args.url:
            print("error: python -m bot set-webhook: give the URL (or --delete)", file=sys.stderr)
            return 2
        base = str(args.url).rstrip("/")
        if not base.startswith(("https://", "http://")) or "/" in base.split("://", 1)[1]:
            print("error: python -m bot set-webhook: the URL is https://host[:port], without a "
                  "path (the bot adds /webhook/<platform>/<secret>)", file=sys.stderr)  # fmt: skip
            return 2
        missing = [p for p in settings.tokens() if not settings.webhook_secret_for(p)]
        if missing:
            print(
                "error: set WEBHOOK_SECRET (or "
                + ", ".join(f"{p.value.upper()}_WEBHOOK_SECRET" for p in missing)
                + "): make one with `openssl rand -hex 32`",
                file=sys.stderr,
            )
            return 2
    code, lines = asyncio.run(register(settings, base, delete=args.delete))
    for line in lines:
        print(line)
    return code
