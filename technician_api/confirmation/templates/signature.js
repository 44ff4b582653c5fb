(function(){
  var c=document.getElementById('sig'),ctx=c.getContext('2d'),drawing=false,inked=false,last=null;
  function fit(){var r=c.getBoundingClientRect(),d=window.devicePixelRatio||1;
    c.width=Math.round(r.width*d);c.height=Math.round(r.height*d);ctx.setTransform(d,0,0,d,0,0);
    ctx.lineWidth=2.2;ctx.lineCap='round';ctx.lineJoin='round';ctx.strokeStyle='#0b1f4d';inked=false;}
  function pos(e){var r=c.getBoundingClientRect();return {x:e.clientX-r.left,y:e.clientY-r.top};}
  c.addEventListener('pointerdown',function(e){drawing=true;document.getElementById('sigerr').hidden=true;last=pos(e);c.setPointerCapture(e.pointerId);e.preventDefault();});
  c.addEventListener('pointermove',function(e){if(!drawing)return;var p=pos(e);ctx.beginPath();
    ctx.moveTo(last.x,last.y);ctx.lineTo(p.x,p.y);ctx.stroke();last=p;inked=true;e.preventDefault();});
  ['pointerup','pointercancel','pointerleave'].forEach(function(t){c.addEventListener(t,function(){drawing=false;});});
  document.getElementById('clear').addEventListener('click',function(){ctx.clearRect(0,0,c.width,c.height);inked=false;});
  document.getElementById('form').addEventListener('submit',function(e){
    if(!inked){e.preventDefault();document.getElementById('sigerr').hidden=false;return;}
    document.getElementById('signature').value=c.toDataURL('image/png');});
  fit();
})();
