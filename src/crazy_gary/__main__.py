from crazy_gary.cli import app

app(prog_name="crazy-gary")
