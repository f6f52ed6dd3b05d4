/* The tag picker: filter the taxonomy by name and sort it by name, creation or last use. */
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

    function refresh() {
      var query = search.value.trim().toLowerCase();
      items.sort(SORTERS[sort.value] || SORTERS.name).forEach(function (item) {
        item.hidden = query !== '' && item.dataset.name.indexOf(query) === -1;
        list.append(item);
      });
      var chosen = list.querySelectorAll('input:checked').length;
      count.textContent = chosen + ' / ' + items.length;
    }

    search.addEventListener('input', refresh);
    search.addEventListener('keydown', function (event) {
      if (event.key === 'Enter') event.preventDefault(); // searching must not submit the form
    });
    sort.addEventListener('change', refresh);
    list.addEventListener('change', refresh);
    refresh();
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-smarttags-tag-picker]').forEach(init);
  });
})();
