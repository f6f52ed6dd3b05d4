// Adds a "Smart tags" link to the header of image, document and media edit pages. Wagtail has no hook for
// buttons on those pages, so the link is added here; the moderation screen itself needs no JavaScript.
(function () {
    'use strict';

    function addSmartTagsLink() {
        const config = document.getElementById('smarttags-moderation-config');
        if (!config) {
            return;
        }
        const routes = JSON.parse(config.textContent);
        const path = window.location.pathname;
        for (const route of routes) {
            const match = path.match(new RegExp('^' + route.edit_pattern + '$'));
            if (!match) {
                continue;
            }
            const link = document.createElement('a');
            link.href = route.moderation_url.replace('/0/', '/' + match[1] + '/');
            link.className = 'button button-small button-secondary smarttags-edit-link';
            link.textContent = route.label;
            // Image and document edit pages have Wagtail's slim header; wagtailmedia's has the classic one.
            const actions = document.getElementById('w-slim-header-buttons')
                || document.querySelector('.w-slim-header .w-flex-1.w-items-center')
                || document.querySelector('header.w-header .right');
            (actions || document.body).appendChild(link);
            return;
        }
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', addSmartTagsLink);
    } else {
        addSmartTagsLink();
    }
})();
