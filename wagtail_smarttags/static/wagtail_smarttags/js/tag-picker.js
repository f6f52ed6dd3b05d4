/* The tag picker: filter the taxonomy by name and sort it by name, creation or last use; a name that
   matches no tag can be created (posted by name, saved with the model). */
(function () {
  'use strict';

  var SORTERS = {
    name: function (a, b) { return a.dataset.name.localeCompare(b.dataset.name); },
    created: function (a, b) { return Number(b.dataset.created) - Number(a.dataset.created); },
    last_used: function (a, b) { return Number(b.dataset.lastUsed) - Number(a.dataset.lastUsed); },
  };

  function init(picker) {
    var search = picker.querySelector('[data-smarttags-tag-search]');
    var sort = picker.querySelector('[data-smarttags-tag-sort]');
    var count = picker.querySelector('[data-smarttags-tag-count]');
    var list = picker.querySelector('ul');
    var items = Array.prototype.slice.call(list.querySelectorAll('li[data-name]'));
    var createRow = picker.querySelector('[data-smarttags-create-row]');
    var create = picker.querySelector('[data-smarttags-create-tag]');
    var noTags = picker.querySelector('[data-smarttags-no-tags]');

    function typedName() {
      return search.value.trim().replace(/\s+/g, ' ');
    }

    function refresh() {
      var query = search.value.trim().toLowerCase();
      var exact = false;
      items.sort(SORTERS[sort.value] || SORTERS.name).forEach(function (item) {
        item.hidden = query !== '' && item.dataset.name.indexOf(query) === -1;
        exact = exact || item.dataset.name === typedName().toLowerCase();
        list.append(item);
      });
      var chosen = list.querySelectorAll('input:checked').length;
      count.textContent = chosen + ' / ' + items.length;
      createRow.hidden = query === '' || exact;
      picker.querySelector('[data-smarttags-new-name]').textContent = typedName();
      noTags.hidden = items.length > 0;
    }

    create.addEventListener('click', function () {
      var name = typedName();
      if (!name) return;
      var item = document.createElement('li');
      item.dataset.name = name.toLowerCase();
      item.dataset.created = String(Number.MAX_SAFE_INTEGER);
      item.dataset.lastUsed = '0';
      item.dataset.smarttagsNewTag = '';
      var label = document.createElement('label');
      var box = document.createElement('input');
      box.type = 'checkbox';
      box.name = create.dataset.newTagsName;
      box.value = name;
      box.checked = true;
      var marker = document.createElement('span');
      marker.className = 'smarttags-tag-picker__new';
      marker.textContent = create.dataset.newLabel;
      label.append(box, ' ' + name + ' ', marker);
      item.append(label);
      items.push(item);
      search.value = '';
      refresh();
    });

    search.addEventListener('input', refresh);
    search.addEventListener('keydown', function (event) {
      if (event.key !== 'Enter') return;
      event.preventDefault(); // searching must not submit the form; Enter creates the tag it offers
      if (!createRow.hidden) create.click();
    });
    sort.addEventListener('change', refresh);
    list.addEventListener('change', refresh);
    refresh();
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-smarttags-tag-picker]').forEach(init);
  });
})();
