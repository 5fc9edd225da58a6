// Starts the engine's Web Worker as soon as the page is parsed, while the page's own WebAssembly
// still downloads and compiles, so the two load side by side rather than one after the other.
// The app adopts this worker, with the events it sent meanwhile (src/ui/client.rs, boot_worker).
(function () {
  if (typeof Worker === 'undefined') return;
  try {
    var early = [];
    var worker = new Worker('./flowbook-worker_loader.js');
    worker.onmessage = function (event) { early.push(event); };
    worker.onerror = function (event) { early.push(event); };
    self.flowbookBoot = { worker: worker, early: early };
  } catch (e) {
    // The app starts a worker itself and says so if it cannot.
  }
})();
