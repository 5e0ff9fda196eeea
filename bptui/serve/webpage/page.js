// bptui serve --web: the page of a browser student. A terminal (xterm.js, DOM
// renderer) on a websocket to the class server: keys and window sizes go up,
// the lesson's screen comes down. Logs in with the class password (or as the
// teacher), comes back after a dropped connection, and saves handouts.
"use strict";
(function () {
  const zh = (navigator.language || "").toLowerCase().startsWith("zh");
  const WORDS = {
    wrong: ["Wrong password.", "密码不对。"],
    tries: ["Wrong password ({left} tries left).", "密码不对(还可以试 {left} 次)。"],
    refused: ["The server closed the connection.", "服务器关闭了连接。"],
    reconnecting: ["Connection lost: reconnecting…", "连接断了:正在重连……"],
    lost: ["The connection is lost.", "连接已断开。"],
    ended: ["Your session has ended.", "本次课程已结束。"],
    unreachable: ["Cannot reach the class server.", "连不上课堂服务器。"],
    saved: ["Saved {name} to your downloads.", "已保存 {name} 到下载文件夹。"],
  };
  const say = (key, fields) => {
    let text = WORDS[key][zh ? 1 : 0];
    for (const [name, value] of Object.entries(fields || {})) text = text.replace("{" + name + "}", value);
    return text;
  };
  const $ = (id) => document.getElementById(id);
  if (zh) {
    document.documentElement.lang = "zh";
    $("intro").textContent = "加入课堂：你的课程在课堂服务器上运行。";
    $("user").previousElementSibling.firstChild.textContent = "你的名字 ";
    $("user").previousElementSibling.lastChild.textContent = "（显示在老师的名单上）";
    $("teacher-hint").textContent = "教师：名字填 teacher，并输入教师密码。";
    $("join").textContent = "加入";
    $("again").textContent = "重新加入";
  }
  const form = $("login"), box = $("terminal"), status = $("status");
  const term = new Terminal({
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace',
    fontSize: 15,
    scrollback: 0,
    macOptionIsMeta: true,
    theme: { background: "#000000" },
  });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  const encoder = new TextEncoder();
  const TOKEN = "bptui-token";
  let ws = null;
  let got = 0; // bytes of the lesson's screen received: what a reconnect asks for after
  let token = sessionStorage.getItem(TOKEN);
  let ended = false;
  let opened = false;
  let retry = 0;
  let retryUntil = 0;

  function url() {
    const base = location.pathname.replace(/[^/]*$/, "");
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + base + "ws";
  }

  let live = false; // logged in on this websocket
  let joins = 0;
  const held = []; // keys typed while the connection comes back (a few, in order)
  let heldBytes = 0;

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(message);
  }

  function key(bytes) {
    if (live && ws && ws.readyState === WebSocket.OPEN) {
      ws.send(bytes);
    } else if (token && heldBytes + bytes.length <= 4096) {
      held.push(bytes);
      heldBytes += bytes.length;
    }
  }

  function show(text, again) {
    status.hidden = !text;
    $("status-text").textContent = text || "";
    $("again").hidden = !again;
  }

  function ensureOpen() {
    if (opened) return;
    opened = true;
    const hidden = box.hidden;
    box.hidden = false; // measured while shown: the first size is the window's
    term.open(box);
    fit.fit();
    box.hidden = hidden;
    term.onData((data) => key(encoder.encode(data)));
    term.onBinary((data) => key(Uint8Array.from(data, (c) => c.charCodeAt(0))));
    term.onResize(({ cols, rows }) => send(JSON.stringify({ t: "size", cols, rows })));
    window.addEventListener("resize", () => {
      if (!box.hidden) fit.fit();
    });
  }

  function openTerminal() {
    ensureOpen();
    form.hidden = true;
    box.hidden = false;
    fit.fit();
    term.focus();
  }

  function size() {
    ensureOpen();
    return { cols: term.cols, rows: term.rows };
  }

  function download(name, type, data) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([bytes], { type }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  function onMessage(event) {
    if (typeof event.data !== "string") {
      const bytes = new Uint8Array(event.data);
      got += bytes.length;
      term.write(bytes);
      return;
    }
    const message = JSON.parse(event.data);
    switch (message.t) {
      case "hello":
        if (token) {
          const { cols, rows } = size();
          send(JSON.stringify({ t: "resume", token, got, cols, rows }));
        } else {
          $("password-row").hidden = !(message.password || message.teacher);
          $("password-label").textContent = message.password
            ? (zh ? "课堂密码" : "Class password")
            : (zh ? "密码（仅教师）" : "Password (the teacher only)");
          $("teacher-hint").hidden = !message.teacher;
          form.hidden = false;
          $("join").disabled = false;
          (message.password ? $("password") : $("user")).focus();
        }
        break;
      case "wrong":
        $("message").textContent = message.left > 0 ? say("tries", { left: message.left }) : say("wrong");
        $("join").disabled = message.left <= 0;
        $("password").value = "";
        $("password").focus();
        break;
      case "ok":
        token = message.token;
        sessionStorage.setItem(TOKEN, token);
        retry = 0;
        live = true;
        joins += 1;
        show("");
        openTerminal();
        while (held.length) send(held.shift());
        heldBytes = 0;
        break;
      case "gone": // the session we were in is over: log in afresh
        token = null;
        got = 0;
        sessionStorage.removeItem(TOKEN);
        term.reset();
        box.hidden = true;
        ws.close();
        ws = null;
        connect();
        break;
      case "repaint":
        term.reset();
        got = 0;
        break;
      case "download":
        download(message.name, message.type, message.data);
        break;
      case "exit":
        ended = true;
        token = null;
        sessionStorage.removeItem(TOKEN);
        show(say("ended"), true);
        break;
    }
  }

  function connect() {
    const socket = new WebSocket(url());
    socket.binaryType = "arraybuffer";
    ws = socket;
    socket.onmessage = onMessage;
    socket.onclose = (event) => {
      if (socket !== ws) return;
      ws = null;
      live = false;
      if (ended) return;
      if (!token) {
        // Before logging in: the page says why, and the form waits.
        $("message").textContent = event.code === 1006 ? say("unreachable") : say("refused");
        $("join").disabled = true;
        show(" ", true);
        return;
      }
      // A dropped moment: come back, sooner at first, for as long as the server waits.
      if (!retryUntil) retryUntil = Date.now() + 45000;
      if (Date.now() > retryUntil) {
        show(say("lost"), true);
        return;
      }
      show(say("reconnecting"));
      setTimeout(connect, Math.min(4000, 250 * 2 ** retry++));
    };
    socket.onopen = () => {
      retryUntil = 0;
    };
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    $("message").textContent = "";
    $("join").disabled = true;
    const { cols, rows } = size();
    send(
      JSON.stringify({
        t: "login",
        user: $("user").value.trim() || "student",
        password: $("password").value,
        cols,
        rows,
        lang: navigator.language || "",
      })
    );
  });
  $("again").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN);
    location.reload();
  });
  // For tests and the curious: what the terminal shows, as text.
  window.bptui = {
    term,
    text: () => {
      const buffer = term.buffer.active;
      const lines = [];
      for (let y = 0; y < term.rows; y++) lines.push(buffer.getLine(buffer.viewportY + y).translateToString(true, 0, term.cols));
      return lines.join("\n");
    },
    drop: () => ws && ws.close(4001, "dropped"),
    joins: () => joins,
  };
  connect();
})();
