// Keeps a page's live region current: the server sends the region's HTML, rendered with the page's own templates,
// whenever what it shows changes (server-sent events; nothing here polls).
"use strict";
(function () {
  const region = document.getElementById("live");
  if (!region || !region.dataset.src || !window.EventSource) return;
  const source = new EventSource(region.dataset.src);
  source.addEventListener("update", function (e) {
    // Keep keyboard focus on the same control across the swap when it is still there.
    const focused = document.activeElement && document.activeElement.id;
    region.innerHTML = e.data;
    if (focused) {
      const again = document.getElementById(focused);
      if (again) again.focus();
    }
    document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || 0) + 1);
  });
  source.addEventListener("end", function (e) {
    source.close();
    const note = document.createElement("p");
    note.className = "ended";
    note.setAttribute("role", "alert");
    note.textContent = "Live updates stopped: " + e.data;
    region.prepend(note);
  });
})();
