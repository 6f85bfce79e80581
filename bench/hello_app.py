"""The baseline: a bare FastAPI hello-world, served exactly like the service."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello():
    return {"message": "hello"}
