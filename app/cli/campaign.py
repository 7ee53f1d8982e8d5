import click
from flask.cli import AppGroup

group = AppGroup("campaign", help="campaign commands")
