"""Launch a campaign of N units on a fresh SQLite database: instances per second, stored bytes per instance.

python bench/launch.py --units 20000
"""

import argparse
import time

from common import emit, machine, make_app, seed_campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    app, url = make_app(args.database_url)
    with app.app_context():
        from sqlalchemy import func

        from app.extensions import db
        from app.models import ProcessInstance, Task
        from app.services.campaigns import launch

        campaign_id = seed_campaign(args.units)
        start = time.perf_counter()
        result = launch.launch_all(campaign_id, None, batch_size=args.batch_size)
        elapsed = time.perf_counter() - start
        assert result.done == args.units, result
        state_bytes = db.session.scalar(func.sum(func.length(ProcessInstance.state)))
        tasks = db.session.query(Task).count()
    print(f"machine: {machine()}")
    print(f"database: {url.split('://')[0]}; launched {args.units} instances ({tasks} tasks) in {elapsed:.2f} s")
    emit("launch", "instances_per_second", round(args.units / elapsed, 1), "instances/s")
    emit("launch", "state_bytes_per_instance", round(state_bytes / args.units, 1), "bytes")


if __name__ == "__main__":
    main()
