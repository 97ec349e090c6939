// Moviie's dashboard: the few things server-rendered pages cannot do alone. Uploads go to a
// reserved upload with tus-js-client (progress, and resume after a network drop); copy buttons.
(function () {
  "use strict";
  const csrf = () => {
    const headers = document.body.getAttribute("hx-headers");
    return headers ? JSON.parse(headers)["X-CSRF-Token"] : "";
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const field = document.querySelector(button.dataset.copy);
    if (!field) return;
    field.select();
    navigator.clipboard.writeText(field.value).then(() => {
      button.textContent = "Copied";
    }, () => { document.execCommand("copy"); button.textContent = "Copied"; });
  });

  const form = document.getElementById("upload");
  if (!form) return;
  const state = document.getElementById("upload-state");
  const bar = document.getElementById("upload-progress");
  const percent = document.getElementById("upload-percent");
  const message = document.getElementById("upload-message");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) return;
    const data = new FormData();
    data.set("title", form.elements.title.value || file.name);
    data.set("filename", file.name);
    data.set("size_bytes", String(file.size));
    state.hidden = false;
    document.getElementById("upload-name").textContent = file.name;
    message.textContent = "Reserving…";
    const reserved = await fetch(form.dataset.reserve, {
      method: "POST", body: data, headers: { "X-CSRF-Token": csrf() },
    });
    const answer = await reserved.json();
    if (!reserved.ok) {
      message.textContent = answer.error || "The upload was refused.";
      return;
    }
    const upload = new tus.Upload(file, {
      uploadUrl: answer.upload_url,
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      storeFingerprintForResuming: false,
      metadata: { filename: file.name },
      onProgress: (sent, total) => {
        const share = total ? Math.floor((100 * sent) / total) : 0;
        bar.value = share;
        percent.textContent = share + "%";
      },
      onError: (error) => { message.textContent = "Upload failed: " + error.message; },
      onSuccess: () => {
        bar.value = 100;
        percent.textContent = "100%";
        message.textContent = "Uploaded: processing.";
        form.reset();
        htmx.ajax("GET", "/dashboard/videos", { target: "#video-rows", select: "#video-rows > *", swap: "innerHTML" });
      },
    });
    message.textContent = "Uploading…";
    upload.start();
  });
})();

