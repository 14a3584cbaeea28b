// Shop by photo: send the photo as soon as one is picked (the form still works without JavaScript).
document.querySelectorAll("[data-testid=photo-upload-form] input[type=file]").forEach(function (input) {
  input.addEventListener("change", function () {
    if (input.files.length) input.form.submit();
  });
});
