"""'What am I looking at?': the page's parts in plain words, for the network that answers."""

from __future__ import annotations

import streamlit as st

from nn.network import Network


def explanation_ui(net: Network) -> None:
    st.divider()
    st.subheader("What am I looking at?")
    hidden = ", ".join(str(n) for n in net.sizes[1:-1])
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(
            f"**The network.** {net.sizes[0]} inputs, one per pixel of the small image; "
            f"a hidden layer of {hidden} neurons; 10 output neurons, one per digit. Each "
            "neuron adds up what it receives, with weights learned from 50,000 handwritten "
            "digits (MNIST), and squashes the sum into a number between 0 and 1: its "
            "*activation*."
        )
        st.markdown(
            "**The small image.** MNIST's digits are 28 × 28 pixels, white on black, scaled to "
            "fit a 20 × 20 box and centred. Your drawing is prepared the same way; this is "
            "exactly what the network reads, pixel by pixel."
        )
    with right:
        st.markdown(
            "**The bars.** How strongly each output neuron fires; the highest is the "
            "network's pick. They are not probabilities and need not add up to 1. The "
            'network has no neuron for "none of these": a tap, a line or a scribble can '
            "light one bar as brightly as a real digit does, so high bars alone prove "
            "nothing. The page names a digit only when the drawing is shaped like one "
            "(not a dot, a straight line far from upright or a filled scribble) and one bar "
            'clearly leads; when two bars are close it names both ("4 or 9?"), and '
            "otherwise it says it is not sure."
        )
        st.markdown(
            "**The squares.** The hidden neurons' activations: patterns the network learned "
            "to look for. One by one they mean little; the output neurons weigh them all."
        )
