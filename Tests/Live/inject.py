#!/usr/bin/env python3
"""Loss injection for the live suite's control: remove one event from a store behind ADK's back.

    inject.py --env-file ENV --backend cloudsql|redis --app A --user U --session S --event E

cloudsql: `DELETE FROM events WHERE …` (one row, or exit 1). redis (community layout): the session blob
`session:S` is rewritten without that event, keeping its expiry (`SET … KEEPTTL`). Runs in venv-community.
"""
import argparse
import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adkstores  # noqa: E402


async def main():
    p = argparse.ArgumentParser()
    for name in ("--env-file", "--backend", "--app", "--user", "--session", "--event"):
        p.add_argument(name, required=True)
    args = p.parse_args()
    service = adkstores.make_service(adkstores.read_env(args.env_file), args.backend)
    try:
        if args.backend == "cloudsql":
            from sqlalchemy import text
            async with service.db_engine.begin() as connection:
                result = await connection.execute(
                    text("DELETE FROM events WHERE id = :e AND app_name = :a AND user_id = :u AND session_id = :s"),
                    {"e": args.event, "a": args.app, "u": args.user, "s": args.session})
                removed = result.rowcount
        else:
            key = f"session:{args.session}"
            blob = json.loads(await service.cache.get(key))
            before = len(blob["events"])
            blob["events"] = [e for e in blob["events"] if e["id"] != args.event]
            removed = before - len(blob["events"])
            await service.cache.set(key, json.dumps(blob, ensure_ascii=False, separators=(",", ":")).encode(), keepttl=True)
    finally:
        await adkstores.close_service(service)
    print(f"removed {removed} event(s)")
    sys.exit(0 if removed == 1 else 1)


if __name__ == "__main__":
    asyncio.run(main())
