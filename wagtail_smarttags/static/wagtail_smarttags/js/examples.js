/* Example images per tag: "Add assets" opens Wagtail's image chooser in multiple-selection mode,
   chosen images become thumbnails with hidden inputs the form posts; "Remove" takes one out. */
(function () {
  'use strict';

  function updateCount(section) {
    section.querySelector('[data-smarttags-count]').textContent =
      section.querySelectorAll('[data-smarttags-thumbnails] > li').length;
  }

  function thumbnail(section, image, removeLabel) {
    var item = document.createElement('li');
    item.className = 'smarttags-thumbnail';
    item.dataset.imageId = image.id;

    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = section.dataset.fieldName;
    input.value = image.id;

    var img = document.createElement('img');
    img.src = image.preview.url;
    img.alt = '';

    var title = document.createElement('span');
    title.className = 'smarttags-thumbnail__title';
    title.textContent = image.title;

    var remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'button button-small button-secondary no';
    remove.dataset.smarttagsRemove = '';
    remove.textContent = removeLabel;
    remove.setAttribute('aria-label', removeLabel + ' ' + image.title);

    item.append(input, img, title, remove);
    return item;
  }

  function init(container) {
    var chooserUrl = container.dataset.chooserUrl;
    var removeLabel = container.dataset.removeLabel;

    container.addEventListener('click', function (event) {
      var remove = event.target.closest('[data-smarttags-remove]');
      if (remove) {
        var section = remove.closest('[data-smarttags-tag-examples]');
        remove.closest('li').remove();
        updateCount(section);
        return;
      }
      var add = event.target.closest('[data-smarttags-add-assets]');
      if (!add) return;
      var section = add.closest('[data-smarttags-tag-examples]');
      var list = section.querySelector('[data-smarttags-thumbnails]');
      new window.ImageChooserModal(chooserUrl).open({ multiple: true }, function (results) {
        [].concat(results).forEach(function (image) {
          if (!list.querySelector('[data-image-id="' + image.id + '"]')) {
            list.append(thumbnail(section, image, removeLabel));
          }
        });
        updateCount(section);
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-smarttags-examples]').forEach(init);
  });
})();
