// A signature drawn with a finger (pointer events), exported as a PNG data URL with transparency.
export function signaturePad(canvas) {
  const ctx = canvas.getContext("2d");
  let drawing = false;
  let ink = 0;
  let last = null;

  function fit() {
    const ratio = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineWidth = 2.6;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#0b1f4d";
    ink = 0;
  }
  function point(e) {
    const r = canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }
  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    drawing = true;
    last = point(e);
    ctx.beginPath();
    ctx.arc(last.x, last.y, 1.2, 0, Math.PI * 2);
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fill();
    ink += 1;
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    e.preventDefault();
    const p = point(e);
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    ink += Math.hypot(p.x - last.x, p.y - last.y);
    last = p;
  });
  const stop = () => {
    drawing = false;
  };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  requestAnimationFrame(fit);
  return {
    clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ink = 0;
    },
    /** Enough ink to be a signature, not a stray tap. */
    signed: () => ink > 40,
    dataUrl: () => canvas.toDataURL("image/png"),
  };
}
