// Shop by photo: polls the search's API URL while it runs, then outlines each garment in its slot's
// colour; a click on a garment shows its look-alikes (or the cheaper ones) and what goes with it.
// "Draw a box" lets the customer mark a garment the segmenter missed and search it as a chosen slot.
(function () {
  "use strict";
  var root = document.querySelector("[data-photo-search]");
  if (!root) return;
  var SVG = "http://www.w3.org/2000/svg";
  var colours = JSON.parse(document.getElementById("slot-colours").textContent);
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  var $ = function (id) { return root.querySelector('[data-testid="' + id + '"]'); };
  var frame = $("photo-frame"), img = frame.querySelector("img"), svg = $("outlines"), drawn = $("drawn-box");
  var state = null, selected = null, timer = null, box = null, drawing = false, start = null, boxSent = false;

  function request(url, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ Accept: "application/json", "X-CSRFToken": csrf }, options.headers || {});
    return fetch(url, options).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    });
  }

  function poll() {
    request(root.dataset.api).then(function (r) {
      if (r.ok) render(r.body); else schedule(3000);
    }).catch(function () { schedule(3000); });
  }
  function schedule(ms) { clearTimeout(timer); timer = setTimeout(poll, ms); }

  function render(search) {
    state = search;
    root.dataset.status = search.status;
    var progress = $("progress");
    progress.querySelector(".bar").style.width = search.progress + "%";
    progress.setAttribute("aria-valuenow", search.progress);
    $("status-text").textContent = search.status_display + (search.status === "done" ? "" : "…");
    var failed = search.status === "failed";
    $("search-error").hidden = !failed;
    $("search-error").textContent = failed ? search.error.message : "";
    $("retry").hidden = !failed;
    $("notice").hidden = !search.notice;
    $("notice").textContent = search.notice;
    var running = ["queued", "segmenting", "embedding", "matching"].indexOf(search.status) >= 0;
    $("search-box").disabled = running || !box;
    $("draw-box").disabled = running;
    if (running) { schedule(700); return; }
    drawGarments(search.garments);
    var ids = search.garments.map(function (g) { return g.id; });
    var boxes = search.garments.filter(function (g) { return g.origin === "box"; });
    if (boxSent && boxes.length) selected = boxes[boxes.length - 1].id;  // show the box just searched
    boxSent = false;
    if (ids.indexOf(selected) < 0) selected = ids.length ? ids[0] : null;
    select(selected);
  }

  function drawGarments(garments) {
    svg.setAttribute("viewBox", "0 0 " + state.width + " " + state.height);
    svg.replaceChildren();
    var list = $("garment-list");
    list.replaceChildren();
    garments.forEach(function (g) {
      var colour = colours[g.slot] || "#333";
      var polygon = document.createElementNS(SVG, "polygon");
      polygon.setAttribute("points", g.outline.map(function (p) { return p[0] + "," + p[1]; }).join(" "));
      polygon.setAttribute("stroke", colour);
      polygon.setAttribute("fill", colour);
      polygon.dataset.garment = g.id;
      polygon.dataset.testid = "outline-" + g.slot;
      polygon.addEventListener("click", function () { select(g.id); });
      svg.appendChild(polygon);
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.dataset.garment = g.id;
      button.dataset.testid = "garment-" + g.slot;
      button.style.setProperty("--slot", colour);
      button.textContent = g.slot + (g.origin === "box" ? " (your box)" : "");
      button.addEventListener("click", function () { select(g.id); });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function card(product) {
    var li = document.createElement("li");
    li.className = "card";
    li.dataset.testid = "result";
    var link = document.createElement("a");
    link.className = "product-link";
    link.href = product.url;
    var picture = product.thumbnail || product.image;
    if (picture) {
      var image = document.createElement("img");
      image.src = picture;
      image.alt = product.name;
      image.loading = "lazy";
      link.appendChild(image);
    }
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = product.name;
    link.appendChild(name);
    var price = document.createElement("span");
    price.className = "price";
    price.textContent = product.price + " " + product.currency;
    li.append(link, price);
    return li;
  }

  function fill(list, products, empty) {
    list.replaceChildren();
    if (!products.length) {
      var li = document.createElement("li");
      li.className = "meta";
      li.textContent = empty;
      list.appendChild(li);
    }
    products.forEach(function (p) { list.appendChild(card(p)); });
  }

  function select(id) {
    selected = id;
    var garment = state && state.garments.filter(function (g) { return g.id === id; })[0];
    root.querySelectorAll("[data-garment]").forEach(function (el) {
      var on = Number(el.dataset.garment) === id;
      if (el.tagName === "BUTTON") el.setAttribute("aria-pressed", on ? "true" : "false");
      else el.classList.toggle("selected", on);
    });
    $("garment-results").hidden = !garment;
    if (!garment) return;
    var cheaper = $("cheaper-only").checked;
    fill($("similar"), cheaper ? garment.similar_cheaper : garment.similar,
      cheaper ? "Nothing similar is cheaper right now." : "Nothing similar is on sale right now.");
    fill($("complements"), garment.complements, "No pairings for this garment yet.");
  }

  $("cheaper-only").addEventListener("change", function () { select(selected); });

  $("retry").addEventListener("click", function () {
    request(root.dataset.retry, { method: "POST" }).then(function (r) {
      if (r.ok) render(r.body); else poll();
    });
  });

  // --- the crop box -------------------------------------------------------------------------------
  function point(event) {
    var rect = img.getBoundingClientRect();
    return {
      x: Math.min(Math.max(event.clientX - rect.left, 0), rect.width),
      y: Math.min(Math.max(event.clientY - rect.top, 0), rect.height),
    };
  }
  function showBox(a, b) {
    drawn.hidden = false;
    drawn.style.left = Math.min(a.x, b.x) + "px";
    drawn.style.top = Math.min(a.y, b.y) + "px";
    drawn.style.width = Math.abs(a.x - b.x) + "px";
    drawn.style.height = Math.abs(a.y - b.y) + "px";
  }
  $("draw-box").addEventListener("click", function () {
    drawing = true;
    box = null;
    frame.classList.add("drawing");
    $("box-hint").hidden = false;
    $("box-error").hidden = true;
    $("search-box").disabled = true;
  });
  frame.addEventListener("pointerdown", function (event) {
    if (!drawing) return;
    event.preventDefault();
    start = point(event);
    frame.setPointerCapture(event.pointerId);
  });
  frame.addEventListener("pointermove", function (event) {
    if (drawing && start) showBox(start, point(event));
  });
  frame.addEventListener("pointerup", function (event) {
    if (!drawing || !start) return;
    var end = point(event), scale = state.width / img.getBoundingClientRect().width;
    box = [Math.min(start.x, end.x), Math.min(start.y, end.y), Math.max(start.x, end.x), Math.max(start.y, end.y)]
      .map(function (v) { return Math.round(v * scale); });
    box[2] = Math.min(box[2], state.width);
    box[3] = Math.min(box[3], state.height);
    start = null;
    drawing = false;
    frame.classList.remove("drawing");
    $("box-hint").hidden = true;
    $("search-box").disabled = false;
  });
  $("search-box").addEventListener("click", function () {
    if (!box) return;
    $("search-box").disabled = true;
    request(root.dataset.crops, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ box: box, slot: $("box-slot").value }),
    }).then(function (r) {
      if (!r.ok) {
        $("box-error").hidden = false;
        $("box-error").textContent = r.body.error ? r.body.error.message : "The box could not be searched.";
        $("search-box").disabled = false;
        return;
      }
      box = null;
      boxSent = true;
      drawn.hidden = true;
      render(r.body);
    });
  });

  poll();
})();
