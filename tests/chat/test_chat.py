"""Chat: one agent turn per message, recorded as a task, with conversation history."""

from __future__ import annotations

from tests.tasks.helpers import marker, tag, wait_for


async def test_chat_answers_and_records_a_task(client, user, model_standin):
    script = tag("chat")
    model_standin.script(script, [{"content": "I can help with Flask."}])
    resp = await client.post("/api/chat", headers=user.headers, json={
        "message": f"What can you help me with? {marker(script)}",
        "context": "I'm working on a Python web application"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["response"] == "I can help with Flask."
    assert body["task_id"].startswith("task_")
    task = (await client.get(f"/api/tasks/{body['task_id']}", headers=user.headers)).json()
    assert task["status"] == "completed"
    assert task["origin"] == "chat"
    sent = model_standin.requests(script)[0]["messages"]
    assert "Python web application" in sent[-1]["content"]


async def test_conversation_continues_with_history(client, user, model_standin):
    script = tag("conv")
    model_standin.script(script, [{"content": "Your name is Ada."},
                                  {"content": "You told me: Ada."}])
    first = (await client.post("/api/chat", headers=user.headers, json={
        "message": f"My name is Ada. {marker(script)}"})).json()
    conversation = first["conversation_id"]
    second = await client.post("/api/chat", headers=user.headers, json={
        "message": f"What is my name? {marker(script)}", "conversation_id": conversation})
    assert second.status_code == 200
    assert second.json()["conversation_id"] == conversation
    sent = model_standin.requests(script)[1]["messages"]
    roles = [m["role"] for m in sent]
    assert roles == ["system", "user", "assistant", "user"]
    assert sent[2]["content"] == "Your name is Ada."
    # another user cannot continue someone else's conversation
    other = await client.post("/api/chat", headers=user.headers, json={
        "message": f"fresh {marker(script)}", "conversation_id": "conv_unrelated"})
    assert [m["role"] for m in model_standin.requests(script)[2]["messages"]] == [
        "system", "user"]
    assert other.status_code == 200


async def test_chat_may_use_tools(client, user, model_standin, counter):
    script = tag("chattool")
    model_standin.script(script, [
        {"tool_calls": [{"name": "counter__tally", "arguments": {"label": script}}]},
        {"content": "Tallied."}])
    resp = await client.post("/api/chat", headers=user.headers,
                             json={"message": f"tally please {marker(script)}"})
    assert resp.json()["response"] == "Tallied."
    assert f"tally {script}" in counter.read_text()


async def test_chat_when_no_model_answers_is_503(client, user, model_standin):
    script = tag("chatdown")
    model_standin.script(script, [{"error": 503, "message": "down"}])
    resp = await client.post("/api/chat", headers=user.headers,
                             json={"message": f"hello {marker(script)}"})
    assert resp.status_code == 503
    assert resp.json()["code"] == "ENDPOINT_UNAVAILABLE"
    assert resp.json()["details"]["task_id"].startswith("task_")


async def test_chat_validates(client, user):
    assert (await client.post("/api/chat", headers=user.headers, json={})).status_code == 400
    assert (await client.post("/api/chat", headers=user.headers,
                              json={"message": ""})).status_code == 400


async def read_sse(client, user, body) -> list[tuple[str, dict]]:
    import json

    events, name = [], None
    async with client.stream("POST", "/api/chat/stream", headers=user.headers, json=body) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        async for line in resp.aiter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line.split(":", 1)[1])))
    return events


async def test_streaming_chat_sends_tokens_then_done(client, user, model_standin):
    script = tag("stream")
    answer = "Streaming answers arrive piece by piece."
    model_standin.script(script, [{"content": answer}])
    events = await read_sse(client, user, {"message": f"stream please {marker(script)}"})
    names = [n for n, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    tokens = [d["delta"] for n, d in events if n == "token"]
    assert len(tokens) > 1
    assert "".join(tokens) == answer
    done = events[-1][1]
    assert done["response"] == answer
    task = (await client.get(f"/api/tasks/{done['task_id']}", headers=user.headers)).json()
    assert task["status"] == "completed"
    assert task["result"]["answer"] == answer


async def test_streaming_chat_reports_unavailable_model(client, user, model_standin):
    script = tag("streamdown")
    model_standin.script(script, [{"error": 503}])
    events = await read_sse(client, user, {"message": f"hi {marker(script)}"})
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "ENDPOINT_UNAVAILABLE"


async def test_a_client_leaving_mid_stream_stops_the_turn(client, user, model_standin):
    import json

    script = tag("streamgone")
    model_standin.script(script, [{"content": "word " * 200, "chunk_delay": 0.05}])
    task_id = None
    async with client.stream("POST", "/api/chat/stream", headers=user.headers,
                             json={"message": f"long one {marker(script)}"}) as resp:
        async for line in resp.aiter_lines():
            if line.startswith("data:") and task_id is None:
                task_id = json.loads(line.split(":", 1)[1])["task_id"]
            if line.startswith("event: token"):
                break  # the client goes away after the first token
    assert task_id is not None
    task = await wait_for(client, user, task_id)
    assert task["status"] == "stopped"
    assert task["completed_at"] is not None and task["error"] is None
