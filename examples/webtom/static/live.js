// Optional, like forms.js: a job page follows its job live through the
// server's event stream (/jobs/ID/events) and reloads itself once the job
// is final, to show the products and the light curve. Without script the
// page reloads itself every second instead (a <noscript> refresh).
(function () {
  var job = document.getElementById("job");
  var fields = document.getElementById("job-fields");
  if (!job || !fields || !job.dataset.events || !window.EventSource) return;
  var events = new EventSource(job.dataset.events);
  events.addEventListener("status", function (e) {
    var st = JSON.parse(e.data);
    if (st.done) {
      events.close();
      location.reload();
      return;
    }
    job.dataset.state = st.state;
    fields.innerHTML = st.html; // rendered and escaped by the server's template
  });
})();
