import click
from flask.cli import AppGroup

group = AppGroup("processes", help="processes commands")
