import click
from flask.cli import AppGroup

group = AppGroup("units", help="units commands")
