/* LTI Client Side postMessages: lti.put_data and lti.get_data against the platform's storage frame. */
function LtiPlatformStorage(targetName, platformOrigin) {
  "use strict";
  var host = window.opener || window.parent;
  var target = host;
  try {
    if (targetName && targetName !== "_parent" && host.frames[targetName]) { target = host.frames[targetName]; }
  } catch (e) { target = host; }

  function send(message) {
    return new Promise(function (resolve, reject) {
      var id = "lb-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
      message.message_id = id;
      var timer;
      function onMessage(event) {
        var data = event.data || {};
        if (event.origin !== platformOrigin || data.message_id !== id || data.subject !== message.subject + ".response") { return; }
        window.removeEventListener("message", onMessage);
        clearTimeout(timer);
        if (data.error) { reject(data.error); } else { resolve(data); }
      }
      window.addEventListener("message", onMessage);
      timer = setTimeout(function () {
        window.removeEventListener("message", onMessage);
        reject({ code: "timeout", message: "No answer from the platform's storage" });
      }, 2000);
      target.postMessage(message, platformOrigin);
    });
  }

  return {
    put: function (key, value) { return send({ subject: "lti.put_data", key: key, value: value }); },
    get: function (key) { return send({ subject: "lti.get_data", key: key }).then(function (d) { return d.value; }); }
  };
}
