"""Turn a backbone's own labels for an image, or for each frame of a video, into generic tags."""


def mean_label_scores(rows):
    """``{label: mean probability}`` over ``rows`` (one ``[(label, probability), ...]`` per image or frame).

    A label missing from a row's top labels counts as 0 there, so a label seen in one frame
    of sixteen scores a sixteenth of its probability: generic tags describe the whole video.
    """
    rows = [row for row in rows if row is not None]
    if not rows:
        return {}
    totals = {}
    for row in rows:
        for label, probability in row:
            totals[label] = totals.get(label, 0.0) + float(probability)
    return {label: total / len(rows) for label, total in totals.items()}


def choose_generic_labels(rows, min_confidence, max_labels, excluded=frozenset()):
    """The best labels over ``rows`` that reach ``min_confidence``, at most ``max_labels``, best first.

    ``excluded`` holds lower-cased labels that something else decides on (a trained tag model's tags).
    """
    scores = mean_label_scores(rows)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    chosen = [(label, score) for label, score in ranked if score >= min_confidence and label.lower() not in excluded]
    return chosen[:max_labels]
