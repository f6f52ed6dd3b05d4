/* Example images per tag: "Add assets" opens Wagtail's image chooser in multiple-selection mode,
   chosen images become thumbnails with hidden inputs the form posts; "Remove" takes one out; a
   suggested image is added with its "Add", or with the others by "Add all". */
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

  function addSuggestion(suggestion, removeLabel) {
    var section = suggestion.closest('[data-smarttags-tag-examples]');
    var list = section.querySelector('[data-smarttags-thumbnails]');
    var image = {
      id: suggestion.dataset.imageId,
      title: suggestion.dataset.title,
      preview: { url: suggestion.dataset.thumbnailUrl },
    };
    if (!list.querySelector('[data-image-id="' + image.id + '"]')) {
      list.append(thumbnail(section, image, removeLabel));
    }
    var suggestions = suggestion.closest('[data-smarttags-suggestions]');
    suggestion.remove();
    if (!suggestions.querySelector('[data-smarttags-suggestion]')) suggestions.remove();
    updateCount(section);
  }

  function init(container) {
    var chooserUrl = container.dataset.chooserUrl;
    var removeLabel = container.dataset.removeLabel;

    container.addEventListener('click', function (event) {
      var suggested = event.target.closest('[data-smarttags-add-suggestion]');
      if (suggested) {
        addSuggestion(suggested.closest('[data-smarttags-suggestion]'), removeLabel);
        return;
      }
      var all = event.target.closest('[data-smarttags-add-all-suggestions]');
      if (all) {
        all.closest('[data-smarttags-suggestions]').querySelectorAll('[data-smarttags-suggestion]')
          .forEach(function (suggestion) { addSuggestion(suggestion, removeLabel); });
        return;
      }
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
