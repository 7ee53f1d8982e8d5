import click
from flask.cli import AppGroup

group = AppGroup("scheduler", help="scheduler commands")
